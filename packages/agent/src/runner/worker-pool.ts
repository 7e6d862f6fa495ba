import { Worker } from "node:worker_threads";
import type { DetectedExecutor, FromWorker, ToWorker } from "./worker-messages.ts";

/** Messages about one job, delivered to whoever started it. */
export interface JobSink {
  onMessage(msg: Exclude<FromWorker, { t: "ready" } | { t: "pong" }>): void;
  /** The thread running the job died or was ended; the job is lost. */
  onLost(reason: string): void;
}

interface Slot {
  worker: Worker;
  jobs: Map<string, JobSink>;
  pings: Map<number, () => void>;
}

const ENTRY = new URL("./worker-entry.ts", import.meta.url);

/**
 * A fixed pool of executor worker threads. Jobs are spread over the least-loaded thread and share it
 * (executors are async), so a benchmark of thousands of tiny jobs costs one postMessage each way,
 * not a thread start. A thread that crashes or is ended is replaced; its jobs are reported lost.
 */
export class WorkerPool {
  readonly #modules: string[];
  readonly #slots: Slot[] = [];
  readonly #where = new Map<string, Slot>();
  #pingSeq = 0;
  #closed = false;

  constructor(size: number, modules: string[]) {
    this.#modules = modules;
    for (let i = 0; i < Math.max(1, size); i++) this.#slots.push(this.#spawn());
  }

  /** Imports the executor modules in one thread and reports what they detect. */
  detect(): Promise<DetectedExecutor[]> {
    const w = new Worker(ENTRY);
    return new Promise<DetectedExecutor[]>((resolve, reject) => {
      w.once("error", reject);
      w.on("message", (msg: FromWorker) => {
        if (msg.t === "ready") {
          resolve(msg.executors);
          void w.terminate();
        }
      });
      w.postMessage({ t: "init", modules: this.#modules } satisfies ToWorker);
    });
  }

  run(msg: Extract<ToWorker, { t: "run" }>, sink: JobSink): void {
    let best = this.#slots[0]!;
    for (const s of this.#slots) if (s.jobs.size < best.jobs.size) best = s;
    best.jobs.set(msg.id, sink);
    this.#where.set(msg.id, best);
    best.worker.postMessage(msg);
  }

  abort(id: string, reason: Extract<ToWorker, { t: "abort" }>["reason"]): void {
    this.#where.get(id)?.worker.postMessage({ t: "abort", id, reason } satisfies ToWorker);
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
    slot.worker.postMessage({ t: "ping", n } satisfies ToWorker);
  }

  get size(): number {
    return this.#slots.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #spawn(): Slot {
    const worker = new Worker(ENTRY);
    const slot: Slot = { worker, jobs: new Map(), pings: new Map() };
    worker.on("message", (msg: FromWorker) => {
      if (msg.t === "pong") {
        slot.pings.get(msg.n)?.();
        slot.pings.delete(msg.n);
        return;
      }
      if (msg.t === "ready") return;
      const sink = slot.jobs.get(msg.id);
      if (!sink) return; // forgotten job: late result discarded
      if (msg.t === "done") {
        slot.jobs.delete(msg.id);
        this.#where.delete(msg.id);
      }
      sink.onMessage(msg);
    });
    worker.on("error", (err) => this.#replace(slot, `executor thread crashed: ${err.message}`));
    worker.on("exit", () => this.#replace(slot, "executor thread exited"));
    worker.unref();
    worker.postMessage({ t: "init", modules: this.#modules } satisfies ToWorker);
    return slot;
  }

  #replace(slot: Slot, reason: string): void {
    const i = this.#slots.indexOf(slot);
    if (i === -1) return;
    this.#slots.splice(i, 1);
    for (const t of slot.pings.values()) t();
    slot.worker.removeAllListeners();
    slot.worker.on("error", () => {});
    void slot.worker.terminate();
    const lost = [...slot.jobs.entries()];
    slot.jobs.clear();
    for (const [id] of lost) this.#where.delete(id);
    if (!this.#closed) this.#slots.push(this.#spawn());
    for (const [, sink] of lost) sink.onLost(reason);
  }
}
