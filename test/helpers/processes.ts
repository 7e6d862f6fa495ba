import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

const FIXTURES = new URL("../fixtures/", import.meta.url);

export interface Proc {
  proc: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

/** Runs a fixture script in a child Node process (the same Node as the tests). */
export function runFixture(name: string, options: unknown, cwd?: string): Proc {
  const proc = spawn(process.execPath, [new URL(name, FIXTURES).pathname, JSON.stringify(options)], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on("data", onData);
  proc.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    kill: (signal) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    exited,
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output:\n${out.slice(-3000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}

export interface ServerProc extends Proc {
  url: string;
  bootstrap: { clientKey: string; agentKey: string; adminUser: string; adminPassword: string };
}

export async function spawnServer(options: Record<string, unknown>): Promise<ServerProc> {
  const p = runFixture("server-main.ts", options);
  const m = await p.waitFor(/READY (.+)\n/);
  const info = JSON.parse(m[1]!);
  return { ...p, url: info.url, bootstrap: info.bootstrap };
}

export async function spawnAgent(options: Record<string, unknown>, cwd?: string): Promise<Proc & { agentId: string }> {
  const p = runFixture("agent-main.ts", options, cwd);
  // Generous: on a loaded 2-core machine an agent process took over 15 s to start.
  const m = await p.waitFor(/AGENT (\S+)\n/, 60_000);
  return { ...p, agentId: m[1]! };
}

/** A free loopback port (for a server that must come back on the same port after kill -9). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
