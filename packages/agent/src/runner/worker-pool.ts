import { Worker } from "node:worker_threads";
import { BUNDLED } from "./bundled.ts";
import type { Executor, ExecutorSettings } from "./executor.ts";
import { importExecutor } from "./import-executor.ts";
import { toJobError } from "./job-error.ts";
import { checkWireJson, MAX_OUTPUT_BYTES } from "./wire-json.ts";
import type { DetectedExecutor, FromWorker, ToWorker } from "./worker-messages.ts";

/** Messages about one job, delivered to whoever started it. */
export interface JobSink {
  onMessage(msg: Exclude<FromWorker, { t: "ready" } | { t: "pong" }>): void;
  /** The thread running the job died or was ended; the job is lost. */
  onLost(reason: string): void;
}

interface Slot {
  worker: Worker;
  /** Run messages of this event-loop turn, posted together (one postMessage per turn, not per job). */
  outgoing: RunMessage[];
  jobs: Map<string, JobSink>;
  /** Open health checks: their resolvers. */
  checks: Map<number, (problems: string[]) => void>;
  /** Open unload requests (on close). */
  unloads: Map<number, () => void>;
  /** When the thread last had no jobs left (idle threads are ended after idleMs). */
  idleSince: number;
  /** Outstanding liveness pings (see `forget`): while any is open the thread gets no new jobs. */
  pings: Map<number, () => void>;
  /** Models the thread's executors held at its last health answer. */
  models: string[];
  /** The thread has imported and detected its executors: a job sent now starts at once. */
  ready: boolean;
  /** Hears the thread's detection (the warm thread started before the agent reports ready). */
  onReady?: (executors: DetectedExecutor[]) => void;
  /** Hears that the thread was lost before it was ready. */
  onFail?: (reason: string) => void;
}

type RunMessage = Extract<ToWorker, { t: "run" }>;

const ENTRY = BUNDLED ? new URL("./agent-worker.mjs", import.meta.url) : new URL("./worker-entry.ts", import.meta.url);

/** How long importing and detecting every executor may take. */
const DETECT_TIMEOUT_MS = 60_000;

/** Settings for a pool made without any (tests of the pool itself): no shell, no benchmarks. */
export const DEFAULT_SETTINGS: ExecutorSettings = {
  allowShell: false,
  benchmarks: {},
  dataDir: ".",
  inheritEnv: {},
  maxLogBytes: 4 * 1024 * 1024,
  maxOutputBytes: MAX_OUTPUT_BYTES,
  maxChildMemoryMb: 0,
  killGraceMs: 1000,
  llm: { modelsDir: "", gpu: "auto", maxLoadedModels: 1 },
};

/**
 * A pool of up to `size` executor worker threads. `warm()` starts the first one (its detection is the
 * agent's) and the pool keeps it for good, so no job waits for a thread start (0.4-0.65 s measured):
 * a crashed or replaced warm thread is started again at once. Threads beyond it start when every
 * ready thread is busy and end after `idleMs` without work; a job never waits on a starting thread
 * while a ready one can take it. Jobs are spread over the least-loaded thread and share it
 * (executors are async), so a benchmark of thousands of tiny jobs costs one postMessage each way,
 * not a thread start. A thread that crashes or is ended is replaced; its jobs are reported lost.
 * A thread under suspicion (a job there ignored its abort) gets no new work until it answers a
 * ping or is replaced, so a stuck thread never swallows the next job.
 */
export class WorkerPool {
  readonly #modules: string[];
  readonly #settings: ExecutorSettings;
  readonly #onReplaced: ((reason: string, lostJobs: number) => void) | undefined;
  readonly #slots: Slot[] = [];
  readonly #where = new Map<string, Slot>();
  /** Built-in light executors by capability: their jobs run here, on the control thread (see Executor.light). */
  readonly #light = new Map<string, Executor>();
  /** Jobs waiting for a thread that is not under suspicion. */
  #waiting: Array<{ msg: RunMessage; sink: JobSink }> = [];
  #pingSeq = 0;
  #closed = false;
  readonly #max: number;
  readonly #idleMs: number;
  readonly #reaper: NodeJS.Timeout;
  /** Called when an executor in a job thread says what it offers may have changed (`Executor.watch`). */
  onChanged: ((found: DetectedExecutor[]) => void) | undefined;
  /** Threads kept however idle: 1 once warm() was called. */
  #minWarm = 0;
  /** A warm thread that died before it was ready is started again after this (no tight crash loop). */
  #restartDelayMs = 0;

  /** `onReplaced` hears of each thread that crashed or was ended (for the log). */
  constructor(
    size: number,
    modules: string[],
    onReplaced?: (reason: string, lostJobs: number) => void,
    idleMs = 60_000,
    settings: ExecutorSettings = DEFAULT_SETTINGS,
  ) {
    this.#modules = modules;
    this.#settings = settings;
    this.#onReplaced = onReplaced;
    this.#max = Math.max(1, size);
    this.#idleMs = idleMs;
    this.#reaper = setInterval(() => this.#reap(), Math.max(50, Math.min(idleMs, 10_000)));
    this.#reaper.unref();
  }

  /** Imports the executor modules in one thread and reports what they detect. */
  detect(timeoutMs = DETECT_TIMEOUT_MS): Promise<DetectedExecutor[]> {
    const w = new Worker(ENTRY);
    return new Promise<DetectedExecutor[]>((resolve, reject) => {
      // A plugin that ends the thread or never returns from import/detect must not wedge the start.
      const timer = setTimeout(() => {
        reject(
          new Error(`executor detection did not finish within ${timeoutMs} ms (a plugin hangs on import or detect)`),
        );
        void w.terminate();
      }, timeoutMs);
      w.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      w.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the executor detection thread exited (code ${code}): a plugin ended it`));
      });
      w.on("message", (batch: FromWorker | FromWorker[]) => {
        for (const msg of Array.isArray(batch) ? batch : [batch]) {
          if (msg.t !== "ready") continue;
          clearTimeout(timer);
          resolve(msg.executors);
          void w.terminate();
        }
      });
      w.postMessage({ t: "init", modules: this.#modules, settings: this.#settings } satisfies ToWorker);
    });
  }

  /**
   * Starts the thread the pool keeps warm and resolves with what its executors detected (the same
   * answer as detect(), without a second thread start). Rejects like detect() when it cannot.
   */
  warm(timeoutMs = DETECT_TIMEOUT_MS): Promise<DetectedExecutor[]> {
    this.#minWarm = 1;
    const slot = this.#slots.find((s) => !s.ready) ?? this.#spawnInto();
    return new Promise<DetectedExecutor[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`executor detection did not finish within ${timeoutMs} ms (a plugin hangs on import or detect)`),
        );
        this.#replace(slot, "executor detection timed out");
      }, timeoutMs);
      slot.onReady = (executors) => {
        clearTimeout(timer);
        void this.#loadLight(executors).then(() => resolve(executors), reject);
      };
      slot.onFail = (reason) => {
        clearTimeout(timer);
        reject(new Error(`the executor detection thread failed (${reason}): a plugin ended it`));
      };
    });
  }

  /** Imports the detected light executors here (tiny built-in modules) so their jobs skip the thread. */
  async #loadLight(executors: DetectedExecutor[]): Promise<void> {
    for (const d of executors) {
      if (!d.light || !d.detected) continue;
      const ex = ((await importExecutor(d.module)) as { default?: Executor }).default;
      if (ex?.light) this.#light.set(d.name, ex);
    }
  }

  run(msg: RunMessage, sink: JobSink): void {
    const light = this.#light.get(msg.name);
    if (light) {
      void this.#runLight(light, msg, sink);
      return;
    }
    const slot = this.#pick();
    if (slot) this.#dispatch(slot, msg, sink);
    else this.#waiting.push({ msg, sink });
  }

  /** A light executor's job, here: it answers at once, so there is nothing to abort or replace. */
  async #runLight(ex: Executor, msg: RunMessage, sink: JobSink): Promise<void> {
    const signal = new AbortController().signal;
    let done: Extract<FromWorker, { t: "done" }>;
    try {
      const output = await ex.run(
        { id: msg.id, capability: msg.capability, payload: msg.payload, inputs: msg.inputs, attempt: msg.attempt },
        {
          signal,
          progress: (p) => sink.onMessage({ t: "progress", id: msg.id, p }),
          log: (s, l) => {
            sink.onMessage({ t: "log", id: msg.id, s, l });
            return true;
          },
          logDropped: () => {},
          inputPaths: msg.inputPaths,
          workDir: msg.workDir,
          outputDir: msg.outputDir,
          settings: this.#settings,
        },
      );
      const checked = checkWireJson(output, "output", this.#settings.maxOutputBytes);
      done = checked.ok
        ? { t: "done", id: msg.id, ok: true, output, made: false }
        : { t: "done", id: msg.id, ok: false, error: { category: "fatal", message: checked.problem }, made: false };
    } catch (err) {
      done = { t: "done", id: msg.id, ok: false, error: toJobError(err, signal), made: false };
    }
    sink.onMessage(done);
  }

  abort(id: string, reason: Extract<ToWorker, { t: "abort" }>["reason"]): void {
    const i = this.#waiting.findIndex((w) => w.msg.id === id);
    if (i !== -1) {
      const [w] = this.#waiting.splice(i, 1);
      queueMicrotask(() => w!.sink.onLost(`aborted (${reason}) before it started`));
      return;
    }
    const slot = this.#where.get(id);
    if (slot) this.#send(slot, { t: "abort", id, reason });
  }

  /**
   * Gives up on a job that ignored its abort. If its thread still answers a ping within `graceMs` the
   * job is only forgotten (its late result is discarded); if the thread is stuck, it is ended and
   * replaced, and its other jobs are reported lost.
   */
  forget(id: string, graceMs: number): void {
    const slot = this.#where.get(id);
    if (!slot) return;
    slot.jobs.delete(id);
    this.#where.delete(id);
    const n = ++this.#pingSeq;
    const timer = setTimeout(() => {
      slot.pings.delete(n);
      this.#replace(slot, "executor thread stopped responding and was ended");
    }, graceMs);
    slot.pings.set(n, () => clearTimeout(timer));
    this.#send(slot, { t: "ping", n });
  }

  /**
   * Runs the executors' health() hooks in every live thread. A thread that does not answer within
   * timeoutMs is a problem itself. No thread (an idle agent) means nothing is loaded: no problems.
   */
  async checkHealth(timeoutMs: number): Promise<string[]> {
    const answers = this.#slots.map(
      (slot) =>
        new Promise<string[]>((resolve) => {
          const n = ++this.#pingSeq;
          const timer = setTimeout(() => {
            slot.checks.delete(n);
            resolve(["an executor thread did not answer the health check"]);
          }, timeoutMs);
          slot.checks.set(n, (problems) => {
            clearTimeout(timer);
            resolve(problems);
          });
          this.#send(slot, { t: "health", n });
        }),
    );
    return [...new Set((await Promise.all(answers)).flat())];
  }

  /** Models held by live threads at their last health check (an ended thread held nothing). */
  loadedModels(): string[] {
    return [...new Set(this.#slots.flatMap((s) => s.models))].sort();
  }

  /**
   * The least-loaded ready thread not under suspicion. While every ready thread is busy and the pool
   * has room, another is started, but the job goes to a ready one (a start takes far longer than a
   * shared turn); only with no ready thread at all does it go to a starting one.
   */
  #pick(): Slot | undefined {
    let best: Slot | undefined;
    let starting: Slot | undefined;
    for (const s of this.#slots) {
      if (s.pings.size > 0) continue;
      if (!s.ready) {
        if (!starting || s.jobs.size < starting.jobs.size) starting = s;
      } else if (!best || s.jobs.size < best.jobs.size) best = s;
    }
    if ((!best || best.jobs.size > 0) && !starting && this.#slots.length < this.#max && !this.#closed) {
      starting = this.#spawnInto();
    }
    return best ?? starting;
  }

  #spawnInto(): Slot {
    const slot = this.#spawn();
    this.#slots.push(slot);
    return slot;
  }

  /** Ends threads that have had nothing to do for idleMs. */
  #reap(): void {
    const now = Date.now();
    for (const s of [...this.#slots]) {
      if (this.#slots.length <= this.#minWarm) return;
      if (!s.ready || s.jobs.size > 0 || s.pings.size > 0 || now - s.idleSince < this.#idleMs) continue;
      this.#slots.splice(this.#slots.indexOf(s), 1);
      s.worker.removeAllListeners();
      s.worker.on("error", () => {});
      void s.worker.terminate();
    }
  }

  #dispatch(slot: Slot, msg: RunMessage, sink: JobSink): void {
    slot.jobs.set(msg.id, sink);
    this.#where.set(msg.id, slot);
    // postMessage per job was the agent's main cost in bench/ profiles; a turn's runs go together.
    if (slot.outgoing.push(msg) === 1) setImmediate(() => this.#flush(slot));
  }

  #flush(slot: Slot): void {
    const batch = slot.outgoing;
    if (batch.length === 0) return;
    slot.outgoing = [];
    try {
      slot.worker.postMessage(batch.length === 1 ? batch[0] : batch);
    } catch {
      // A payload that cannot be cloned fails its own job only (the runner checks payloads first).
      for (const msg of batch) {
        try {
          slot.worker.postMessage(msg);
        } catch (err) {
          const sink = slot.jobs.get(msg.id);
          slot.jobs.delete(msg.id);
          this.#where.delete(msg.id);
          const message = `the payload cannot be passed to an executor: ${(err as Error).message}`;
          sink?.onMessage({ t: "done", id: msg.id, ok: false, error: { category: "fatal", message } });
        }
      }
    }
  }

  /** Control messages go at once, after any queued runs, so an abort never overtakes its job's run. */
  #send(slot: Slot, msg: ToWorker): void {
    this.#flush(slot);
    slot.worker.postMessage(msg);
  }

  /** Hands waiting jobs to threads that are clear again. */
  #drain(): void {
    while (this.#waiting.length > 0) {
      const slot = this.#pick();
      if (!slot) return;
      const w = this.#waiting.shift()!;
      this.#dispatch(slot, w.msg, w.sink);
    }
  }

  get size(): number {
    return this.#slots.length;
  }

  /** What executors are told about the agent (also where the runner puts job directories). */
  get settings(): ExecutorSettings {
    return this.#settings;
  }

  /** Asks each live thread's executors to unload (bounded by timeoutMs), then ends the threads. */
  async close(timeoutMs = 5000): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reaper);
    await Promise.all(
      this.#slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const n = ++this.#pingSeq;
            const timer = setTimeout(resolve, timeoutMs);
            slot.unloads.set(n, () => {
              clearTimeout(timer);
              resolve();
            });
            this.#send(slot, { t: "unload", n });
          }),
      ),
    );
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #spawn(): Slot {
    const worker = new Worker(ENTRY);
    const slot: Slot = {
      worker,
      outgoing: [],
      jobs: new Map(),
      pings: new Map(),
      models: [],
      checks: new Map(),
      unloads: new Map(),
      idleSince: Date.now(),
      ready: false,
    };
    worker.on("message", (batch: FromWorker | FromWorker[]) => {
      for (const msg of Array.isArray(batch) ? batch : [batch]) this.#receive(slot, msg);
    });
    worker.on("error", (err) => this.#replace(slot, `executor thread crashed: ${err.message}`));
    worker.on("exit", (code) => this.#replace(slot, `executor thread exited (code ${code})`));
    worker.unref();
    worker.postMessage({ t: "init", modules: this.#modules, settings: this.#settings } satisfies ToWorker);
    return slot;
  }

  #receive(slot: Slot, msg: FromWorker): void {
    if (msg.t === "pong") {
      slot.pings.get(msg.n)?.();
      slot.pings.delete(msg.n);
      this.#drain();
      return;
    }
    if (msg.t === "ready") {
      slot.ready = true;
      this.#restartDelayMs = 0;
      slot.onReady?.(msg.executors);
      slot.onReady = slot.onFail = undefined;
      this.#drain(); // jobs parked while no thread could take them
      return;
    }
    if (msg.t === "unloaded") {
      slot.unloads.get(msg.n)?.();
      return;
    }
    if (msg.t === "changed") {
      this.onChanged?.(msg.executors);
      return;
    }
    if (msg.t === "health") {
      slot.models = msg.models ?? [];
      slot.checks.get(msg.n)?.(msg.problems);
      slot.checks.delete(msg.n);
      return;
    }
    const sink = slot.jobs.get(msg.id);
    if (!sink) return; // forgotten job: late result discarded
    if (msg.t === "done") {
      slot.jobs.delete(msg.id);
      this.#where.delete(msg.id);
      if (slot.jobs.size === 0) slot.idleSince = Date.now();
    }
    sink.onMessage(msg);
  }

  /** Starts the warm thread again after it was lost; at once, or after a growing pause if it died starting. */
  #keepWarm(wasReady: boolean): void {
    if (this.#slots.length >= this.#minWarm) return;
    if (wasReady) {
      this.#spawnInto();
      return;
    }
    this.#restartDelayMs = Math.min(30_000, Math.max(1000, this.#restartDelayMs * 2));
    setTimeout(() => {
      if (!this.#closed && this.#slots.length < this.#minWarm) this.#spawnInto();
    }, this.#restartDelayMs).unref();
  }

  #replace(slot: Slot, reason: string): void {
    const i = this.#slots.indexOf(slot);
    if (i === -1) return;
    this.#slots.splice(i, 1);
    for (const t of slot.pings.values()) t();
    slot.onFail?.(reason);
    slot.onReady = slot.onFail = undefined;
    slot.worker.removeAllListeners();
    slot.worker.on("error", () => {});
    void slot.worker.terminate();
    const lost = [...slot.jobs.entries()];
    slot.jobs.clear();
    for (const [id] of lost) this.#where.delete(id);
    if (!this.#closed) {
      this.#onReplaced?.(reason, lost.length);
      this.#drain(); // starts a fresh thread if jobs are waiting
      this.#keepWarm(slot.ready);
    }
    for (const [, sink] of lost) sink.onLost(reason);
  }
}
