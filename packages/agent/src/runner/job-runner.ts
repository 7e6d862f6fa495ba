import path from "node:path";
import type { AssignedJob, HeldJob, JobError, JobProgress } from "@gantry/protocol";
import { capabilityName } from "@gantry/protocol";
import { FileTransferError, type JobFiles } from "./job-files.ts";
import { type JobDirs, JobWorkspace } from "./job-workspace.ts";
import { findWireProblem } from "./wire-json.ts";
import type { AbortReason } from "./worker-messages.ts";
import type { WorkerPool } from "./worker-pool.ts";

/** How one attempt ended, as the runner saw it. */
export type JobOutcome =
  | { kind: "completed"; output: unknown }
  | { kind: "failed"; error: JobError }
  | { kind: "aborted"; reason: AbortReason };

/** The runner's reports; the control loop turns them into wire messages. The runner never touches the socket. */
export interface RunnerEvents {
  started(job: AssignedJob): void;
  progress(job: AssignedJob, progress: JobProgress): void;
  /** LLM tokens (lossless, in order). */
  tokens?(job: AssignedJob, text: string): void;
  log(job: AssignedJob, stream: "stdout" | "stderr", line: string): void;
  finished(job: AssignedJob, outcome: JobOutcome): void;
}

export interface JobRunnerOptions {
  pool: WorkerPool;
  /** Base capability names this agent has an executor for. */
  executors: ReadonlySet<string>;
  /** After an abort, how long an executor may take to stop before it is given up on. */
  abortGraceMs: number;
  events: RunnerEvents;
  /** Moves input and output files; without it a job with inputs fails and outputs stay local. */
  files?: JobFiles | undefined;
  /**
   * Jobs in executors at once (the agent's capacity). The runner may hold more (prefetched ones): they
   * fetch their inputs, then wait here for an executor slot; a job gives its slot up as soon as its
   * executor is done, before its outputs are uploaded. Unset: no limit besides what the caller takes.
   */
  executorSlots?: (() => number) | undefined;
}

interface Running {
  job: AssignedJob;
  timer: NodeJS.Timeout | undefined;
  abort: AbortReason | undefined;
  grace: NodeJS.Timeout | undefined;
  /** Aborts the attempt's file transfers. */
  transfer: AbortController;
  /** Its executor slot: not asked for yet (or given back), waiting for one, or holding one. */
  slot: "none" | "waiting" | "held";
  /** Resumes a job waiting for a slot. */
  wake: (() => void) | undefined;
  /** Whether the attempt has directories on disk: false only when known (no inputs, executor made none). */
  made: boolean | undefined;
}

/**
 * Runs assigned jobs in the worker pool: enforces `runtimeSecs`, turns cancels into aborts and gives up
 * on executors that ignore them. Capacity is checked by the caller (`size`), which also owns rejection.
 */
export class JobRunner {
  readonly #o: JobRunnerOptions;
  readonly #running = new Map<string, Running>();
  readonly #workspace: JobWorkspace;
  #idle: Array<() => void> = [];
  /** Jobs holding an executor slot, and those waiting for one (oldest first). */
  #executing = 0;
  #queued: Running[] = [];

  constructor(options: JobRunnerOptions) {
    this.#o = options;
    this.#workspace = new JobWorkspace(path.join(options.pool.settings.dataDir, "jobs"));
    this.#workspace.clear(); // nothing runs yet: what is there was left by a crash
  }

  get size(): number {
    return this.#running.size;
  }

  has(jobId: string): boolean {
    return this.#running.has(jobId);
  }

  epochOf(jobId: string): number | undefined {
    return this.#running.get(jobId)?.job.epoch;
  }

  held(): HeldJob[] {
    return [...this.#running.values()].map((r) => ({ jobId: r.job.id, epoch: r.job.epoch }));
  }

  jobs(): AssignedJob[] {
    return [...this.#running.values()].map((r) => r.job);
  }

  canRun(job: AssignedJob): boolean {
    try {
      return this.#o.executors.has(capabilityName(job.capability));
    } catch {
      return false;
    }
  }

  start(job: AssignedJob): void {
    const r: Running = {
      job,
      timer: undefined,
      abort: undefined,
      grace: undefined,
      transfer: new AbortController(),
      slot: "none",
      wake: undefined,
      made: job.inputs.length > 0 ? true : undefined,
    };
    this.#running.set(job.id, r);
    this.#startTimer(r);
    this.#o.events.started(job);
    const bad = findWireProblem(job.payload, "payload");
    if (bad) {
      // Structured clone to the worker would throw (or overflow the stack) on it: fail, never crash.
      const error = { category: "fatal", message: `${bad}; it cannot be passed to an executor` } as const;
      queueMicrotask(() => this.#running.get(job.id) === r && this.#finish(r, { kind: "failed", error }));
      return;
    }
    void this.#run(r, this.#workspace.prepare(job));
  }

  /** Inputs in, the executor, outputs out: each step checks the attempt is still running and not aborted. */
  async #run(r: Running, dirs: JobDirs): Promise<void> {
    const job = r.job;
    if (job.inputs.length > 0) {
      try {
        if (!this.#o.files) throw new FileTransferError("this agent cannot fetch input files");
        const dir = this.#workspace.inputDir(job);
        dirs.inputPaths = await this.#o.files.fetchInputs(job, dir, r.transfer.signal);
      } catch (err) {
        this.#transferFailed(r, err);
        return;
      }
    }
    if (this.#running.get(job.id) !== r) return;
    if (r.abort) {
      this.#finish(r, { kind: "aborted", reason: r.abort });
      return;
    }
    if (!this.#acquire(r)) {
      // Prefetched: its inputs are here; it waits for a job ahead of it to leave its executor.
      await new Promise<void>((resolve) => {
        r.wake = resolve;
      });
      if (this.#running.get(job.id) !== r) return; // aborted while waiting (abort() finished it)
      if (r.abort) {
        this.#finish(r, { kind: "aborted", reason: r.abort });
        return;
      }
      this.#startTimer(r); // its runtime counts from when it can run
    }
    this.#o.pool.run(
      {
        t: "run",
        id: job.id,
        name: capabilityName(job.capability),
        capability: job.capability,
        payload: job.payload,
        inputs: job.inputs,
        attempt: job.attempt,
        ...dirs,
      },
      {
        onMessage: (msg) => {
          if (this.#running.get(job.id) !== r) return;
          // A job that is no longer this agent's says nothing more.
          if (r.abort === "stale" || r.abort === "dropped") {
            if (msg.t !== "done") return;
          }
          if (msg.t === "progress") this.#o.events.progress(job, msg.p);
          else if (msg.t === "tokens") this.#o.events.tokens?.(job, msg.text);
          else if (msg.t === "log") this.#o.events.log(job, msg.s, msg.l);
          else if (msg.t === "done") {
            this.#release(r); // the next job's executor starts while this one's outputs go up
            if (msg.made === false && job.inputs.length === 0) r.made = false;
            if (r.abort) this.#finish(r, { kind: "aborted", reason: r.abort });
            else if (msg.ok) void this.#complete(r, msg.output, dirs.outputDir);
            else this.#finish(r, { kind: "failed", error: msg.error });
          }
        },
        onLost: (reason) => {
          if (this.#running.get(job.id) !== r) return;
          this.#release(r);
          if (r.abort) this.#finish(r, { kind: "aborted", reason: r.abort });
          else this.#finish(r, { kind: "failed", error: { category: "transient", message: reason } });
        },
      },
    );
  }

  /** Uploads what the executor left in its output directory, then reports the job completed. */
  async #complete(r: Running, output: unknown, outputDir: string): Promise<void> {
    // No directory made: no output files to look for (a no-op job costs no filesystem call).
    if (this.#o.files && r.made !== false) {
      try {
        await this.#o.files.uploadOutputs(r.job, outputDir, r.transfer.signal);
      } catch (err) {
        this.#transferFailed(r, err);
        return;
      }
    }
    if (this.#running.get(r.job.id) !== r) return;
    if (r.abort) this.#finish(r, { kind: "aborted", reason: r.abort });
    else this.#finish(r, { kind: "completed", output });
  }

  /** A 409 means the job is no longer this agent's; a network or server error may pass on another attempt. */
  #transferFailed(r: Running, err: unknown): void {
    if (this.#running.get(r.job.id) !== r) return;
    if (r.abort) {
      this.#finish(r, { kind: "aborted", reason: r.abort });
    } else if (err instanceof FileTransferError && err.status === 409) {
      this.#finish(r, { kind: "aborted", reason: "stale" });
    } else {
      const message = `file transfer failed: ${(err as Error).message}`.slice(0, 10_000);
      // Refused for what the job is (a missing input, an output over the size limit): no retry helps.
      const status = err instanceof FileTransferError ? err.status : undefined;
      const category = status === 400 || status === 404 || status === 413 ? "fatal" : "transient";
      this.#finish(r, { kind: "failed", error: { category, message, code: "file_transfer" } });
    }
  }

  /** Aborts a running job; the outcome is reported as `aborted` with this reason (first reason wins). */
  abort(jobId: string, reason: AbortReason): boolean {
    const r = this.#running.get(jobId);
    if (!r) return false;
    if (r.abort) return true;
    r.abort = reason;
    if (r.slot === "waiting") {
      // Never reached an executor: nothing to stop.
      this.#finish(r, { kind: "aborted", reason });
      return true;
    }
    r.transfer.abort(reason);
    this.#o.pool.abort(jobId, reason);
    r.grace = setTimeout(() => {
      if (this.#running.get(jobId) !== r) return;
      this.#o.pool.forget(jobId, this.#o.abortGraceMs);
      this.#finish(r, { kind: "aborted", reason });
    }, this.#o.abortGraceMs);
    return true;
  }

  abortAll(reason: AbortReason): void {
    for (const id of [...this.#running.keys()]) this.abort(id, reason);
  }

  /** Resolves when nothing is running. */
  whenIdle(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Takes an executor slot if one is free (true), else queues the job for the next one (false). */
  #acquire(r: Running): boolean {
    const slots = this.#o.executorSlots?.() ?? Number.POSITIVE_INFINITY;
    if (this.#executing < slots) {
      this.#executing++;
      r.slot = "held";
      return true;
    }
    r.slot = "waiting";
    this.#queued.push(r);
    return false;
  }

  /** Gives a job's slot (or its place in the queue) back, and hands free slots to waiting jobs. */
  #release(r: Running): void {
    if (r.slot === "waiting") this.#queued.splice(this.#queued.indexOf(r), 1);
    else if (r.slot === "held") this.#executing--;
    const wasWaiting = r.slot === "waiting";
    r.slot = "none";
    if (wasWaiting) r.wake?.();
    const slots = this.#o.executorSlots?.() ?? Number.POSITIVE_INFINITY;
    while (this.#executing < slots && this.#queued.length > 0) {
      const next = this.#queued.shift()!;
      next.slot = "held";
      this.#executing++;
      next.wake?.();
    }
  }

  #startTimer(r: Running): void {
    if (r.timer) clearTimeout(r.timer);
    const secs = r.job.runtimeSecs;
    if (secs != null && secs > 0) {
      r.timer = setTimeout(() => this.abort(r.job.id, "timeout"), Math.min(secs * 1000, 2 ** 31 - 1));
    }
  }

  #finish(r: Running, outcome: JobOutcome): void {
    this.#release(r);
    this.#running.delete(r.job.id);
    void this.#workspace.release(r.job, r.made);
    if (r.timer) clearTimeout(r.timer);
    if (r.grace) clearTimeout(r.grace);
    this.#o.events.finished(r.job, outcome);
    if (this.#running.size === 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const w of waiters) w();
    }
  }
}
