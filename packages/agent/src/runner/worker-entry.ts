/**
 * The executor worker thread. Imports executor modules, runs jobs on request and posts progress,
 * log lines and results back. Several jobs share a thread (executors are async); a job that ignores
 * its abort is handled by the control thread (see worker-pool.ts).
 */
import { parentPort } from "node:worker_threads";
import type { Executor, ExecutorSettings } from "./executor.ts";
import { toJobError } from "./job-error.ts";
import { lazyDirs } from "./job-workspace.ts";
import { loadExecutors } from "./load-executors.ts";
import { LogLimiter } from "./log-limiter.ts";
import type { FromWorker, ToWorker } from "./worker-messages.ts";

const port = parentPort;
if (!port) throw new Error("worker-entry.ts must run in a worker thread");

/** By base capability (an executor may serve several). */
const executors = new Map<string, Executor>();
let settings!: ExecutorSettings;
const running = new Map<string, AbortController>();
let ready: Promise<void> = Promise.resolve();

let outgoing: FromWorker[] = [];

/** Messages of one turn leave together: one postMessage per turn, not one per job message. */
function post(msg: FromWorker): void {
  if (outgoing.push(msg) > 1) return;
  setImmediate(() => {
    const batch = outgoing;
    outgoing = [];
    port!.postMessage(batch.length === 1 ? batch[0] : batch);
  });
}

async function init(modules: string[], s: ExecutorSettings): Promise<void> {
  settings = s;
  post({ t: "ready", executors: await loadExecutors(modules, s, executors) });
}

async function run(msg: Extract<ToWorker, { t: "run" }>): Promise<void> {
  await ready;
  const ex = executors.get(msg.name);
  if (!ex) {
    post({ t: "done", id: msg.id, ok: false, error: { category: "fatal", message: `no executor for ${msg.name}` } });
    return;
  }
  const ac = new AbortController();
  running.set(msg.id, ac);
  try {
    const dirs = lazyDirs(msg);
    const limiter = new LogLimiter(settings.maxLogBytes, (s, l) => post({ t: "log", id: msg.id, s, l }));
    const output = await ex
      .run(
        { id: msg.id, capability: msg.capability, payload: msg.payload, inputs: msg.inputs, attempt: msg.attempt },
        {
          signal: ac.signal,
          progress: (p) => post({ t: "progress", id: msg.id, p }),
          log: (s, l) => limiter.push(s, l),
          inputPaths: msg.inputPaths,
          // Getters (a spread would make both directories now): made on first use.
          get workDir() {
            return dirs.workDir;
          },
          get outputDir() {
            return dirs.outputDir;
          },
          settings,
        },
      )
      .finally(() => limiter.finish());
    try {
      post({ t: "done", id: msg.id, ok: true, output: output === undefined ? null : output });
    } catch (err) {
      // Not structured-cloneable (a function, a class instance with handles…).
      post({
        t: "done",
        id: msg.id,
        ok: false,
        error: { category: "fatal", message: `output is not serialisable: ${(err as Error).message}` },
      });
    }
  } catch (err) {
    post({ t: "done", id: msg.id, ok: false, error: toJobError(err, ac.signal) });
  } finally {
    running.delete(msg.id);
  }
}

/** Lets every executor release what it holds; a failing unload only loses its chance to tidy up. */
async function unload(): Promise<void> {
  await ready;
  for (const ex of new Set(executors.values())) await Promise.resolve(ex.unload?.()).catch(() => {});
}

/** Asks every loaded executor that has a health() hook; a throwing or failing hook is a problem too. */
async function health(): Promise<string[]> {
  await ready;
  const problems: string[] = [];
  for (const ex of new Set(executors.values())) {
    if (!ex.health) continue;
    try {
      const problem = await ex.health();
      if (problem) problems.push(`${ex.name}: ${problem}`);
    } catch (err) {
      problems.push(`${ex.name}: health check failed: ${(err as Error).message}`);
    }
  }
  return problems;
}

port.on("message", (batch: ToWorker | ToWorker[]) => {
  for (const msg of Array.isArray(batch) ? batch : [batch]) handle(msg);
});

function handle(msg: ToWorker): void {
  switch (msg.t) {
    case "init":
      ready = init(msg.modules, msg.settings);
      break;
    case "run":
      void run(msg);
      break;
    case "abort":
      running.get(msg.id)?.abort(msg.reason);
      break;
    case "ping":
      post({ t: "pong", n: msg.n });
      break;
    case "health":
      void health().then((problems) => post({ t: "health", n: msg.n, problems }));
      break;
    case "unload":
      void unload().then(() => post({ t: "unloaded", n: msg.n }));
      break;
  }
}
