import {
  type FileRef,
  GantryError,
  type JobError,
  type JobProgress,
  type JobStatus,
  pluginPayloadProblem,
  type SubmitJobRequest,
} from "@gantry/protocol";
import type { AgentOutbox } from "../cluster/agent-outbox.ts";
import type { JobEvents } from "../events/job-events.ts";
import {
  type FenceOutcome,
  IdempotencyConflict,
  type JobRecord,
  type LogLineInput,
  type NewJob,
  type Store,
} from "../store/store.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { newJob } from "./new-job.ts";
import { endAfterFailure } from "./retry-policy.ts";
import type { SlotKeeper } from "./slot-keeper.ts";

export interface LifecycleDeps {
  store: Store;
  events: JobEvents;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  slots: SlotKeeper;
  outbox: AgentOutbox;
}

/**
 * The job state machine's policy: what each client request, agent message and timer does to a job,
 * and which events, pushes and kicks follow the commit. Store verbs enforce fencing; this decides.
 */
export class JobLifecycle {
  readonly #d: LifecycleDeps;
  readonly #wakeups = new Map<string, NodeJS.Timeout>();
  /** Per job, the last tokens message still being handled (its event must leave first). */
  readonly #tokenTails = new Map<string, Promise<void>>();

  constructor(deps: LifecycleDeps) {
    this.#d = deps;
  }

  async submit(owner: string, requests: SubmitJobRequest[]): Promise<{ job: JobRecord; created: boolean }[]> {
    for (const [index, r] of requests.entries()) {
      // The nine media plugins' payloads are known: a bad one is refused here, not failed on an agent.
      const problem = pluginPayloadProblem(r.capability, r.payload);
      if (problem) {
        throw new GantryError("validation_failed", `invalid payload for ${r.capability}: ${problem}`, { index });
      }
    }
    const now = Date.now();
    const rows: NewJob[] = requests.map((r) => newJob(owner, r, now));
    const outcomes = await this.#d.store.insertJobs(rows).catch((err: unknown) => {
      if (err instanceof IdempotencyConflict) {
        throw new GantryError("job_idempotency_conflict", undefined, { jobId: err.jobId });
      }
      throw err;
    });
    const caps = new Set<string>();
    for (const o of outcomes) {
      if (!o.created) continue;
      caps.add(o.job.capability);
      this.#status(o.job);
    }
    for (const cap of caps) this.#d.dispatcher.markWork(cap);
    return outcomes;
  }

  async cancel(job: JobRecord): Promise<JobRecord> {
    if (job.status === "completed" || job.status === "failed" || job.status === "cancelled") {
      throw new GantryError("job_not_cancellable", undefined, { status: job.status });
    }
    const updated = (await this.#d.store.requestCancel(job.id, Date.now()))!;
    // The store decided on the row as it stood: it may have finished since the caller read it.
    if (updated.status === "completed" || updated.status === "failed") {
      throw new GantryError("job_not_cancellable", undefined, { status: updated.status });
    }
    if (updated.status === "cancelled") this.#status(updated);
    else if (updated.agentId) {
      this.#d.outbox.send(updated.agentId, [{ type: "job:cancel", jobId: updated.id, epoch: updated.epoch }]);
    }
    return updated;
  }

  async retry(job: JobRecord): Promise<JobRecord> {
    if (job.status !== "failed" && job.status !== "cancelled") {
      throw new GantryError("job_not_retryable", undefined, { status: job.status });
    }
    const updated = (await this.#d.store.retryJob(job.id, Date.now()))!;
    if (updated.status !== "queued") {
      throw new GantryError("job_not_retryable", undefined, { status: updated.status });
    }
    this.#status(updated);
    this.#d.dispatcher.markWork(updated.capability);
    return updated;
  }

  // ---- agent messages: each returns the fence outcome; the transport turns it into ack/nack ----

  async started(agentId: string, jobId: string, epoch: number): Promise<FenceOutcome> {
    const out = await this.#d.store.markStarted(jobId, agentId, epoch, Date.now());
    if (out.kind === "ok") {
      this.#status(out.job);
      // A cancel requested before the agent started still has to reach it.
      if (out.job.cancelRequestedAt !== null) this.#d.outbox.send(agentId, [{ type: "job:cancel", jobId, epoch }]);
    }
    return out;
  }

  async progress(agentId: string, jobId: string, epoch: number, progress: JobProgress): Promise<FenceOutcome> {
    const out = await this.#d.store.setProgress(jobId, agentId, epoch, progress, Date.now());
    if (out.kind === "ok") this.#d.events.emit({ type: "progress", jobId, progress, at: new Date().toISOString() });
    return out;
  }

  /**
   * LLM tokens: relayed as a job event, never stored (the output holds the whole text). Fenced like
   * the stored messages, by reading the row: a stale attempt's text reaches no watcher. Reads of one
   * job's messages run together but their events leave in the order the messages came.
   */
  tokens(agentId: string, jobId: string, epoch: number, seq: number, text: string): Promise<FenceOutcome> {
    const read = this.#d.store.getJob(jobId);
    const prev = this.#tokenTails.get(jobId) ?? Promise.resolve();
    const out = prev.then(async (): Promise<FenceOutcome> => {
      const job = await read;
      if (!job) return { kind: "missing" };
      if (job.agentId !== agentId || job.epoch !== epoch || (job.status !== "running" && job.status !== "assigned")) {
        return { kind: "stale", job };
      }
      this.#d.events.emit({ type: "tokens", jobId, epoch, seq, text, at: new Date().toISOString() });
      return { kind: "ok", job };
    });
    const tail = out.then(
      () => {},
      () => {},
    );
    this.#tokenTails.set(jobId, tail);
    void tail.then(() => {
      if (this.#tokenTails.get(jobId) === tail) this.#tokenTails.delete(jobId);
    });
    return out;
  }

  async log(agentId: string, jobId: string, epoch: number, lines: LogLineInput[]): Promise<FenceOutcome> {
    const { outcome, records } = await this.#d.store.appendLogs(jobId, agentId, epoch, lines, Date.now());
    for (const r of records) {
      this.#d.events.emit({
        type: "log",
        jobId,
        seq: r.seq,
        stream: r.stream,
        line: r.line,
        at: new Date(r.ts).toISOString(),
      });
    }
    return outcome;
  }

  async completed(agentId: string, jobId: string, epoch: number, output: unknown, files: FileRef[]) {
    const out = await this.#d.store.completeAttempt(jobId, agentId, epoch, output, files, Date.now());
    if (out.kind === "ok") {
      this.#d.events.emit({ type: "output", jobId, at: new Date().toISOString() });
      this.#released(agentId, out.job);
    } else this.#d.slots.stopped(agentId, jobId);
    return out;
  }

  async failed(agentId: string, jobId: string, epoch: number, error: JobError): Promise<FenceOutcome> {
    const now = Date.now();
    const out = await this.#d.store.endAttempt(jobId, agentId, epoch, (job) => endAfterFailure(job, error, now), now);
    if (out.kind === "ok") this.#released(agentId, out.job);
    else this.#d.slots.stopped(agentId, jobId);
    return out;
  }

  async cancelled(agentId: string, jobId: string, epoch: number): Promise<FenceOutcome> {
    const end = { next: "cancelled", error: null } as const;
    const out = await this.#d.store.endAttempt(jobId, agentId, epoch, end, Date.now());
    if (out.kind === "ok") this.#released(agentId, out.job);
    else this.#d.slots.stopped(agentId, jobId);
    return out;
  }

  /** The agent will not run a pushed job: back to the queue at once, the attempt not spent. */
  async rejected(agentId: string, jobId: string, epoch: number, reason: string): Promise<FenceOutcome> {
    const now = Date.now();
    const error: JobError = { category: "transient", message: `agent rejected the job: ${reason}`, code: "rejected" };
    const decide = (job: JobRecord) => endAfterFailure(job, error, now, false);
    const out = await this.#d.store.endAttempt(jobId, agentId, epoch, decide, now);
    if (out.kind === "ok") this.#released(agentId, out.job);
    else this.#d.slots.stopped(agentId, jobId);
    return out;
  }

  // ---- server-side ends ----

  /** Jobs were pushed to their agents. */
  assigned(jobs: JobRecord[]): void {
    for (const j of jobs) this.#status(j);
  }

  /** Jobs claimed for a link that closed before the push go back at once. */
  async orphaned(jobs: JobRecord[]): Promise<void> {
    for (const j of jobs) await this.releaseUnstarted(j.agentId!, [j], "agent left before the push");
  }

  /**
   * The lease sweep: leases that ran out (the agent is dead or cut off; its late messages will be
   * stale). The store claims and ends them in one transaction, so replicas sweeping at once end each
   * attempt once, and a heartbeat that renewed a lease first wins. Returns how many ended.
   */
  async expireLeases(now: number, limit: number): Promise<number> {
    const ended = await this.#d.store.expireLeases(now, limit, (job) => {
      const error: JobError = {
        category: "lease_expired",
        message: `agent ${job.agentId} stopped renewing the lease`,
        code: "lease_expired",
      };
      return endAfterFailure(job, error, now);
    });
    for (const e of ended) this.#released(e.agentId, e.job);
    return ended.length;
  }

  /** Jobs an agent held but has not started when its connection ended go back at once. */
  async releaseUnstarted(agentId: string, jobs: JobRecord[], reason: string): Promise<void> {
    await Promise.all(
      jobs
        .filter((j) => j.status === "assigned")
        .map(async (j) => {
          const now = Date.now();
          const error: JobError = { category: "agent_lost", message: reason, code: "agent_disconnected" };
          const decide = (job: JobRecord) => endAfterFailure(job, error, now, false);
          const out = await this.#d.store.endAttempt(j.id, agentId, j.epoch, decide, now);
          if (out.kind === "ok") this.#released(agentId, out.job);
        }),
    );
  }

  /** An agent says it no longer has a job it was running (it restarted without its outbox). */
  async lost(agentId: string, job: JobRecord, reason: string): Promise<void> {
    const now = Date.now();
    const error: JobError = { category: "agent_lost", message: reason, code: "agent_lost" };
    const decide = (j: JobRecord) => endAfterFailure(j, error, now);
    const out = await this.#d.store.endAttempt(job.id, agentId, job.epoch, decide, now);
    if (out.kind === "ok") this.#released(agentId, out.job);
  }

  /**
   * The deadline sweep: timeoutSecs or maxWaitSecs passed. The store fails the overdue jobs in one
   * statement (each by one caller, wherever it runs); a held job's agent is told to stop.
   */
  async deadlines(now: number, limit: number): Promise<number> {
    const ended = await this.#d.store.failOverdueJobs(now, limit);
    for (const { job, heldBy } of ended) {
      if (heldBy) {
        this.#d.outbox.send(heldBy.agentId, [{ type: "job:cancel", jobId: job.id, epoch: heldBy.epoch }]);
        // The slot stays taken until the agent has stopped the job (SlotKeeper says why).
        this.#d.slots.holdUntilStopped(heldBy.agentId, job.id, now);
        this.#d.dispatcher.kick(job.capability);
      }
      this.#status(job);
    }
    return ended.length;
  }

  /** Re-emits a job's status after a change made elsewhere (e.g. a requeue on reconnect). */
  #released(agentId: string, job: JobRecord): void {
    this.#status(job);
    this.#release(agentId, job);
    if (job.status === "queued") this.#wake(job);
  }

  #release(agentId: string, job: JobRecord): void {
    this.#d.slots.release(agentId, job.id);
    this.#d.dispatcher.kick(job.capability);
  }

  /** A requeued job with a backoff: kick its capability when the delay is over. */
  #wake(job: JobRecord): void {
    const delay = (job.runAfter ?? 0) - Date.now();
    if (delay <= 0) {
      this.#d.dispatcher.markWork(job.capability);
      return;
    }
    if (this.#wakeups.has(job.id)) clearTimeout(this.#wakeups.get(job.id));
    const t = setTimeout(() => {
      this.#wakeups.delete(job.id);
      this.#d.dispatcher.markWork(job.capability);
    }, delay + 5);
    t.unref();
    this.#wakeups.set(job.id, t);
  }

  #status(job: JobRecord): void {
    emitStatus(this.#d.events, job.id, job.status, job.epoch);
  }

  stop(): void {
    for (const t of this.#wakeups.values()) clearTimeout(t);
    this.#wakeups.clear();
  }
}

export function emitStatus(events: JobEvents, jobId: string, status: JobStatus, epoch: number): void {
  events.emit({ type: "status", jobId, status, epoch, at: new Date().toISOString() });
}
