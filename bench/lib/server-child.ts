import type { ChildProcess } from "node:child_process";
import { type Children, nextMessage } from "./children.ts";

export interface ServerChild {
  url: string;
  pid: number;
  dataDir: string;
  bootstrap: { agentKey: string; clientKey: string };
  child: ChildProcess;
  /** Full GC in the server (it runs with --expose-gc), so RSS reads are comparable. */
  gc(): Promise<void>;
  /** Starts a new event-loop delay window in the server. */
  resetLoopDelay(): void;
  /** Event-loop delay since the last reset (ms): p50, p99, max. */
  loopDelay(): Promise<LoopDelay>;
  stop(): Promise<void>;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export interface ServerChildOptions {
  /** Extra ServerOptions (port, dataDir and logLevel are set here). */
  server?: Record<string, unknown>;
  /** Write a V8 CPU profile of the server to this folder (`--cpu-prof`). */
  cpuProfDir?: string | undefined;
}

const SERVER_MAIN = new URL("./server-main.ts", import.meta.url).pathname;

/** Starts a Gantry server in a child process on a fresh data dir and waits until it listens. */
export async function startServerChild(children: Children, opts: ServerChildOptions = {}): Promise<ServerChild> {
  const dataDir = children.tempDir("server");
  const execArgv = ["--expose-gc"];
  if (opts.cpuProfDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`);
  let onReady!: (info: any) => void;
  const ready = new Promise<any>((resolve) => {
    onReady = resolve;
  });
  let seen = false;
  const child = children.fork(
    "server",
    SERVER_MAIN,
    { dataDir, logLevel: "warn", ...opts.server },
    {
      execArgv,
      onLine: (line) => {
        if (!seen && line.startsWith("{") && line.includes('"url"')) {
          seen = true;
          onReady(JSON.parse(line));
        } else if (line.trim()) children.stray.push(`[server] ${line.slice(0, 500)}`);
      },
    },
  );
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`server exited (${code}) before it was ready`))),
  );
  const info = await Promise.race([ready, exited]);
  return {
    url: info.url,
    pid: info.pid,
    dataDir,
    bootstrap: info.bootstrap,
    child,
    gc: async () => {
      const answer = nextMessage(child, (m) => m?.type === "gc:done", 10_000);
      child.send({ type: "gc" });
      await answer;
    },
    resetLoopDelay: () => child.send({ type: "eld:reset" }),
    loopDelay: async () => {
      const answer = nextMessage<LoopDelay & { type: "eld" }>(child, (m) => m?.type === "eld", 10_000);
      child.send({ type: "eld" });
      const { type: _t, ...d } = await answer;
      return d;
    },
    stop: async () => {
      await children.stop(child, 10_000);
      children.removeDir(dataDir);
    },
  };
}
