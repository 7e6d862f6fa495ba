import type { AssignedJob } from "@gantry/protocol";
import type { Logger } from "pino";
import type { Outbox } from "../outbox/outbox.ts";
import type { JobOutcome, JobRunner } from "../runner/job-runner.ts";
import type { AbortReason } from "../runner/worker-messages.ts";
import type { AgentState } from "./agent-state.ts";
import type { LeaseWatch } from "./lease-watch.ts";
import { outcomeMessage } from "./outcome-message.ts";
import type { OutgoingBatcher } from "./outgoing-batcher.ts";

export interface JobIntakeOptions {
  runner: () => JobRunner;
  out: OutgoingBatcher;
  outbox: Outbox;
  leases: LeaseWatch;
  logger: Logger;
  state(): AgentState;
  capacity(): number;
  /** A slot came free or the outbox shrank. */
  changed(): void;
}

/**
 * What this agent does with jobs: takes or rejects a push, stops a job on cancel, forgets one that
 * is no longer its own, and turns an attempt's outcome into its final message.
 */
export class JobIntake {
  readonly #o: JobIntakeOptions;

  constructor(options: JobIntakeOptions) {
    this.#o = options;
  }

  assign(job: AssignedJob): void {
    const runner = this.#o.runner();
    const reject = (reason: string) =>
      this.#o.out.put({ type: "job:rejected", jobId: job.id, epoch: job.epoch, reason });
    if (runner.has(job.id)) {
      if (runner.epochOf(job.id) !== job.epoch) reject("still running a previous attempt of this job");
      return; // duplicate push of a job already running
    }
    const state = this.#o.state();
    const refusal =
      state !== "running" ? `agent is ${state}` : runner.size >= this.#o.capacity() ? "no free slot" : null;
    if (refusal) {
      reject(refusal);
      return;
    }
    if (!runner.canRun(job)) {
      this.#o.out.put({
        type: "job:failed",
        jobId: job.id,
        epoch: job.epoch,
        error: { category: "fatal", message: `this agent has no executor for ${job.capability}` },
      });
      return;
    }
    this.#o.leases.confirm([{ jobId: job.id, epoch: job.epoch }], Date.now());
    runner.start(job);
  }

  /** Valid at any time after welcome, including for a job kept across a reconnect (the server re-sends cancels). */
  cancel(jobId: string, epoch: number): void {
    const runner = this.#o.runner();
    if (runner.epochOf(jobId) === epoch) {
      runner.abort(jobId, "cancel");
    } else if (!runner.has(jobId) && !this.#o.outbox.hasTerminal(jobId)) {
      // Not running here (finished and acked, or unknown after a restart): confirm so the server can settle.
      this.#o.out.put({ type: "job:cancelled", jobId, epoch });
    }
  }

  /** The job is no longer this agent's (dropped by the server, stale, lease lapsed): stop it, say nothing more. */
  forget(jobId: string, epoch: number, reason: Extract<AbortReason, "stale" | "dropped">): void {
    const runner = this.#o.runner();
    const aborted = runner.epochOf(jobId) === epoch && runner.abort(jobId, reason);
    this.#o.out.discardJob(jobId);
    const messages = this.#o.outbox.dropJob(jobId, epoch);
    const why = reason === "dropped" ? "server dropped job" : "job no longer ours (stale epoch or lapsed lease)";
    this.#o.logger.info({ jobId, epoch, aborted, messages }, `${why}; stopped and forgotten`);
    this.#o.changed();
  }

  finished(job: AssignedJob, outcome: JobOutcome): void {
    if (outcome.kind === "aborted" && (outcome.reason === "stale" || outcome.reason === "dropped")) {
      this.#o.out.discardJob(job.id);
      this.#o.outbox.dropJob(job.id, job.epoch);
    } else {
      this.#o.out.flushJob(job.id);
      const msg = outcomeMessage(job, outcome);
      if (msg) this.#o.out.put(msg);
    }
    this.#o.changed();
  }
}
