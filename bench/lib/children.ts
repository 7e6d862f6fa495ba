import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** Anything the bench starts goes through here, so one call can stop it all, even after an error. */
export class Children {
  readonly #procs = new Set<ChildProcess>();
  readonly #dirs = new Set<string>();
  /** Lines a child printed that were not JSON for the bench (warnings), kept short. */
  readonly stray: string[] = [];

  /**
   * Starts `file` (a .ts module, run by this same Node) with one JSON argument and an IPC channel.
   * stdout lines are handed to `onLine`; stderr is shown, prefixed with the child's name.
   */
  fork(
    name: string,
    file: string,
    arg: unknown,
    opts: { execArgv?: string[]; onLine?: (line: string) => void; cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    const child = fork(file, [JSON.stringify(arg)], {
      execArgv: opts.execArgv ?? [],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.env ? { env: opts.env } : {}),
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
    });
    this.#procs.add(child);
    child.once("exit", () => this.#procs.delete(child));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (opts.onLine) opts.onLine(line);
      else this.#note(name, line);
    });
    createInterface({ input: child.stderr! }).on("line", (line) => this.#note(name, line));
    return child;
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `gantry-bench-${prefix}-`));
    this.#dirs.add(dir);
    return dir;
  }

  removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    this.#dirs.delete(dir);
  }

  /** Asks a child to end (SIGTERM), then kills it if it has not exited after `graceMs`. */
  async stop(child: ChildProcess, graceMs = 5000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Stops every child still running and removes every temp dir. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#procs].map((c) => this.stop(c)));
    for (const dir of [...this.#dirs]) this.removeDir(dir);
  }

  /** Synchronous last resort for process exit handlers. */
  killAllNow(): void {
    for (const c of this.#procs) c.kill("SIGKILL");
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }

  #note(name: string, line: string): void {
    if (!line.trim()) return;
    if (this.stray.length < 200) this.stray.push(`[${name}] ${line}`);
    if (this.stray.length <= 20) process.stderr.write(`  [${name}] ${line.slice(0, 300)}\n`);
  }
}

/** Resolves with the first IPC message from `child` that satisfies `pred`; rejects if it exits first. */
export function nextMessage<T>(child: ChildProcess, pred: (m: any) => boolean, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: any) => {
      if (!pred(m)) return;
      done();
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`child exited (${code ?? signal}) before it answered`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`child did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/** Makes a child process exit when its parent goes away (IPC channel closes). */
export function exitWithParent(onExit?: () => void | Promise<void>): void {
  const bye = async () => {
    try {
      await onExit?.();
    } finally {
      process.exit(0);
    }
  };
  process.once("disconnect", () => void bye());
  process.once("SIGTERM", () => void bye());
  process.once("SIGINT", () => void bye());
}
