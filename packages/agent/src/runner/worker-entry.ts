/**
 * The executor worker thread. Imports executor modules, runs jobs on request and posts progress,
 * log lines and results back. Several jobs share a thread (executors are async); a job that ignores
 * its abort is handled by the control thread (see worker-pool.ts).
 */
import { parentPort } from "node:worker_threads";
import type { ErrorCategory, JobError } from "@gantry/protocol";
import { ErrorCategory as ErrorCategorySchema } from "@gantry/protocol";
import type { Executor } from "./executor.ts";
import { checkWireJson, MAX_OUTPUT_BYTES } from "./wire-json.ts";
import type { DetectedExecutor, FromWorker, ToWorker } from "./worker-messages.ts";

const port = parentPort;
if (!port) throw new Error("worker-entry.ts must run in a worker thread");

const executors = new Map<string, Executor>();
const running = new Map<string, AbortController>();
let ready: Promise<void> = Promise.resolve();

let outgoing: FromWorker[] = [];

/** Messages of one turn leave together: one postMessage per turn, not one per job message. */
function post(msg: FromWorker): void {
  if (outgoing.push(msg) > 1) return;
  setImmediate(() => {
    const batch = outgoing;
    outgoing = [];
    try {
      port!.postMessage(batch.length === 1 ? batch[0] : batch);
    } catch {
      // One uncloneable message (a function in a progress object) must not take the turn down with it.
      for (const m of batch) postAlone(m);
    }
  });
}

function postAlone(m: FromWorker): void {
  try {
    port!.postMessage(m);
  } catch (err) {
    if (m.t !== "done") return; // a progress or log message that cannot be cloned is dropped
    const message = `the result cannot be passed back: ${(err as Error).message}`;
    port!.postMessage({ t: "done", id: m.id, ok: false, error: { category: "fatal", message } } satisfies FromWorker);
  }
}

async function init(modules: string[]): Promise<void> {
  const found: DetectedExecutor[] = [];
  for (const module of modules) {
    try {
      const mod = (await import(module)) as { default?: Executor };
      const ex = mod.default;
      if (!ex || typeof ex.run !== "function" || typeof ex.name !== "string") {
        found.push({ name: module, attributes: [], detected: false, module, problem: "no default executor export" });
        continue;
      }
      let detected = false;
      let problem: string | undefined;
      try {
        detected = Boolean(await ex.detect());
      } catch (err) {
        problem = `detect() failed: ${(err as Error).message}`;
      }
      executors.set(ex.name, ex);
      found.push({ name: ex.name, attributes: ex.attributes ?? [], detected, module, ...(problem ? { problem } : {}) });
    } catch (err) {
      found.push({ name: module, attributes: [], detected: false, module, problem: (err as Error).message });
    }
  }
  post({ t: "ready", executors: found });
}

function toJobError(err: unknown, signal: AbortSignal): JobError {
  if (signal.aborted) return { category: "cancelled", message: `aborted: ${String(signal.reason)}` };
  const e = err as { category?: unknown; message?: unknown; code?: unknown };
  const category = ErrorCategorySchema.safeParse(e?.category);
  const error: JobError = {
    category: category.success ? (category.data as ErrorCategory) : "inference",
    message: String(e?.message ?? err).slice(0, 10_000),
  };
  if (typeof e?.code === "string") error.code = e.code.slice(0, 100);
  return error;
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
    const output = await ex.run({
      jobId: msg.id,
      capability: msg.capability,
      payload: msg.payload,
      inputs: msg.inputs,
      attempt: msg.attempt,
      signal: ac.signal,
      progress: (p) => post({ t: "progress", id: msg.id, p }),
      log: (s, l) => post({ t: "log", id: msg.id, s, l }),
    });
    // Checked here, in the job's thread: a BigInt, function, cycle or huge value would otherwise throw
    // in postMessage or in the control loop's JSON.stringify, killing the thread or the agent.
    const checked = checkWireJson(output, "output", MAX_OUTPUT_BYTES);
    if (checked.ok) post({ t: "done", id: msg.id, ok: true, output: JSON.parse(checked.json) });
    else post({ t: "done", id: msg.id, ok: false, error: { category: "fatal", message: checked.problem } });
  } catch (err) {
    post({ t: "done", id: msg.id, ok: false, error: toJobError(err, ac.signal) });
  } finally {
    running.delete(msg.id);
  }
}

/** Lets every executor release what it holds; a failing unload only loses its chance to tidy up. */
async function unload(): Promise<void> {
  await ready;
  for (const ex of executors.values()) await Promise.resolve(ex.unload?.()).catch(() => {});
}

/** Asks every loaded executor that has a health() hook; a throwing or failing hook is a problem too. */
async function health(): Promise<string[]> {
  await ready;
  const problems: string[] = [];
  for (const ex of executors.values()) {
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
      ready = init(msg.modules);
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
