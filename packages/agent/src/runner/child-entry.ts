/**
 * An executor child process: runs one job of a `process`-isolated executor and exits. It leads its
 * own process group, so the thread that forked it can kill it and everything it started at once.
 * If that thread goes away (agent killed), the IPC channel closes and the group kills itself.
 */
import type { JobProgress } from "@gantry/protocol";
import type { FromChild, ToChild } from "./child-messages.ts";
import type { Executor, ExecutorContext } from "./executor.ts";
import { importExecutor } from "./import-executor.ts";
import { toJobError } from "./job-error.ts";
import { LogLimiter } from "./log-limiter.ts";
import { checkWireJson } from "./wire-json.ts";

/** Log lines leave in batches: at most this many per IPC message, and at least every FLUSH_MS. */
const BATCH_LINES = 500;
const FLUSH_MS = 50;

if (!process.send) throw new Error("child-entry.ts must be started with an IPC channel (fork)");
const send = (msg: FromChild, cb?: () => void) => process.send!(msg, undefined, {}, cb);

process.on("disconnect", () => killGroup());
const ac = new AbortController();
const lines: Array<["stdout" | "stderr", string]> = [];
let progress: JobProgress | undefined;
let timer: NodeJS.Timeout | undefined;

function flush(): void {
  clearTimeout(timer);
  timer = undefined;
  if (progress) send({ t: "progress", p: progress });
  progress = undefined;
  while (lines.length > 0) send({ t: "logs", lines: lines.splice(0, BATCH_LINES) });
}

function schedule(): void {
  if (lines.length >= BATCH_LINES) flush();
  else timer ??= setTimeout(flush, FLUSH_MS);
}

function killGroup(): never {
  try {
    process.kill(-process.pid, "SIGKILL");
  } catch {
    // not a group leader (started by hand): at least this process goes
  }
  process.exit(1);
}

const fatal = (message: string) => ({ category: "fatal" as const, message });

process.on("message", (msg: ToChild) => {
  if (msg.t === "abort") ac.abort(msg.reason);
  else if (msg.t === "run") void run(msg);
});

async function run(msg: Extract<ToChild, { t: "run" }>): Promise<void> {
  const limiter = new LogLimiter(msg.settings.maxLogBytes, (s, l) => {
    lines.push([s, l]);
    schedule();
  });
  let result: FromChild;
  try {
    const ex = ((await importExecutor(msg.module)) as { default?: Executor }).default;
    if (!ex || typeof ex.run !== "function") throw new Error(`${msg.module} has no default executor export`);
    const ctx: ExecutorContext = {
      signal: ac.signal,
      progress: (p) => {
        progress = p;
        schedule();
      },
      log: (s, l) => limiter.push(s, l),
      logDropped: (n) => limiter.drop(n),
      inputPaths: msg.inputPaths,
      outputDir: msg.outputDir,
      workDir: msg.workDir,
      settings: msg.settings,
    };
    const out = checkWireJson(await ex.run(msg.job, ctx), "output", msg.settings.maxOutputBytes);
    result = out.ok ? { t: "done", ok: true, json: out.json } : { t: "done", ok: false, error: fatal(out.problem) };
  } catch (err) {
    result = { t: "done", ok: false, error: toJobError(err, ac.signal) };
  }
  limiter.finish();
  flush();
  send(result, () => process.exit(0));
}
