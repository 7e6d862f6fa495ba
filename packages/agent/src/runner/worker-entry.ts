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
import { LogLimiter, MARKER_ROOM } from "./log-limiter.ts";
import { checkWireJson } from "./wire-json.ts";
import type { DetectedExecutor, FromWorker, ToWorker } from "./worker-messages.ts";

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

let modules: string[] = [];
const watched = new WeakSet<Executor>();

async function init(m: string[], s: ExecutorSettings): Promise<void> {
  modules = m;
  settings = s;
  post({ t: "ready", executors: await detect() });
}

/**
 * Detects (again) and watches what is new. Again after an executor's watch fired (a model quarantined,
 * files added): the answer goes to the control thread, and this thread serves what was found.
 */
async function detect() {
  const found = await loadExecutors(modules, settings, executors);
  for (const ex of new Set(executors.values())) {
    if (!ex.watch || watched.has(ex)) continue;
    watched.add(ex);
    ex.watch(() => void redetect().then((executors) => post({ t: "changed", executors })));
  }
  return found;
}

/** Detects again after what is under way; runs wait for it (a failure leaves the old executors). */
function redetect(): Promise<DetectedExecutor[]> {
  const next = ready.then(detect).catch(() => [] as DetectedExecutor[]);
  ready = next.then(() => {});
  return next;
}

async function run(msg: Extract<ToWorker, { t: "run" }>): Promise<void> {
  await ready;
  // Another thread's executor found a new capability since this thread detected (a model added).
  if (!executors.has(msg.name)) await redetect();
  const ex = executors.get(msg.name);
  if (!ex) {
    post({ t: "done", id: msg.id, ok: false, error: { category: "fatal", message: `no executor for ${msg.name}` } });
    return;
  }
  const ac = new AbortController();
  running.set(msg.id, ac);
  const dirs = lazyDirs(msg);
  // Whether the job made a directory: when not, the control thread neither lists outputs nor removes any.
  const made = () => (dirs.made ? { made: true } : { made: false });
  try {
    const limiter = new LogLimiter(settings.maxLogBytes + MARKER_ROOM, (s, l) => post({ t: "log", id: msg.id, s, l }));
    const output = await ex
      .run(
        { id: msg.id, capability: msg.capability, payload: msg.payload, inputs: msg.inputs, attempt: msg.attempt },
        {
          signal: ac.signal,
          progress: (p) => post({ t: "progress", id: msg.id, p }),
          tokens: (text) => post({ t: "tokens", id: msg.id, text: String(text) }),
          log: (s, l) => limiter.push(s, l),
          logDropped: (n) => limiter.drop(n),
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
    // Checked here, in the job's thread: a BigInt, function, cycle or huge value would otherwise throw
    // in postMessage or in the control loop's JSON.stringify, killing the thread or the agent.
    const checked = checkWireJson(output, "output", settings.maxOutputBytes);
    if (checked.ok) post({ t: "done", id: msg.id, ok: true, output: JSON.parse(checked.json), ...made() });
    else post({ t: "done", id: msg.id, ok: false, error: { category: "fatal", message: checked.problem }, ...made() });
  } catch (err) {
    post({ t: "done", id: msg.id, ok: false, error: toJobError(err, ac.signal), ...made() });
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
async function health(): Promise<{ problems: string[]; models: string[] }> {
  await ready;
  const problems: string[] = [];
  const models: string[] = [];
  for (const ex of new Set(executors.values())) {
    try {
      models.push(...(ex.loaded?.() ?? []));
    } catch {}
    if (!ex.health) continue;
    try {
      const problem = await ex.health();
      if (problem) problems.push(`${ex.name}: ${problem}`);
    } catch (err) {
      problems.push(`${ex.name}: health check failed: ${(err as Error).message}`);
    }
  }
  return { problems, models };
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
      void health().then((h) => post({ t: "health", n: msg.n, ...h }));
      break;
    case "unload":
      void unload().then(() => post({ t: "unloaded", n: msg.n }));
      break;
  }
}
