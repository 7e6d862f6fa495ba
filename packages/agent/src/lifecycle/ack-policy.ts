import {
  type AgentToServer,
  type BackoffPolicy,
  backoffDelay,
  isRetryableStatus,
  type ServerToAgent,
} from "@gantry/protocol";
import type { Logger } from "pino";
import type { DeadLetters } from "../outbox/dead-letters.ts";
import type { JobMessage, Outbox } from "../outbox/outbox.ts";
import type { OutgoingBatcher } from "./outgoing-batcher.ts";

export interface AckPolicyOptions {
  outbox: Outbox;
  deadLetters: DeadLetters;
  out: OutgoingBatcher;
  /** Resends after a retryable nack (the shared backoff, per message). */
  backoff: BackoffPolicy;
  logger: Logger;
  /** Whether a link is ready now (a resend waits for the next welcome otherwise). */
  linkReady(): boolean;
  /** A 409: the job is no longer this agent's at that epoch. */
  stale(jobId: string, epoch: number): void;
  /** The outbox shrank (someone may wait for it to empty). */
  settled(): void;
}

/** The longest refusal quoted in the fatal failure that replaces an undeliverable result. */
const MAX_REASON = 2000;

/**
 * What an answer to a job message means, by the protocol's one retryability table:
 * - ack: the message is done.
 * - retryable nack (429, 5xx, 507, `unavailable`, `storage_full`…): the server failed, not the
 *   message; keep it and send it again with backoff. A result is never dropped because the server failed.
 * - 409: the job is no longer this agent's: drop every message of it and stop it.
 * - any other nack, or a message too large to send at all: refused for good. It goes to the dead-letter
 *   list instead of being resent forever (which would hold every later message behind it); a refused
 *   `job:completed` is replaced by a `fatal` job:failed so the job still ends.
 */
export class AckPolicy {
  readonly #o: AckPolicyOptions;
  readonly #retries = new Map<number, number>();
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: AckPolicyOptions) {
    this.#o = options;
  }

  ack(ref: number): void {
    if (this.#o.out.settle(ref, true)) return;
    this.#retries.delete(ref);
    this.#o.outbox.ack(ref);
    this.#o.settled();
  }

  nack(msg: Extract<ServerToAgent, { type: "nack" }>): void {
    const log = this.#o.logger;
    if (this.#o.out.settle(msg.ref, false)) {
      log.warn({ code: msg.error.code, status: msg.status }, `request refused: ${msg.error.message}`);
      return;
    }
    const m = this.#o.outbox.get(msg.ref);
    if (!m) return;
    if (isRetryableStatus(msg.status, msg.error.code)) {
      const n = this.#retries.get(m.ref) ?? 0;
      this.#retries.set(m.ref, n + 1);
      const delayMs = backoffDelay(n, this.#o.backoff);
      log.warn(
        { jobId: m.jobId, type: m.type, status: msg.status, code: msg.error.code, delayMs },
        "server could not take a message now; will resend",
      );
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (!this.#o.outbox.get(m.ref))
          this.#retries.delete(m.ref); // dropped meanwhile (stale job)
        else if (this.#o.linkReady()) this.#o.out.send(m);
      }, delayMs);
      t.unref();
      this.#timers.add(t);
      return;
    }
    this.#retries.delete(m.ref);
    if (msg.status === 409) {
      this.#o.outbox.ack(m.ref);
      log.warn(
        { jobId: m.jobId, epoch: m.epoch, type: m.type, code: msg.error.code },
        "result refused: stale epoch (the job is no longer this agent's); dropped",
      );
      this.#o.stale(m.jobId, m.epoch);
      this.#o.settled();
      return;
    }
    this.#giveUp(m, `refused by the server (${msg.status} ${msg.error.code}: ${msg.error.message})`, {
      status: msg.status,
      code: msg.error.code,
    });
  }

  /** A message larger than a frame: it can never be sent. */
  unsendable(msg: AgentToServer, bytes: number, limit: number): void {
    const reason = `${msg.type} is ${bytes} bytes, more than one frame can carry (${limit})`;
    if ("jobId" in msg && this.#o.outbox.get(msg.ref)) this.#giveUp(msg, reason);
    else if ("ref" in msg && this.#o.out.settle(msg.ref, false)) this.#o.logger.error(reason);
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #giveUp(m: JobMessage, reason: string, refusal?: { status: number; code: string }): void {
    this.#o.outbox.ack(m.ref);
    this.#o.deadLetters.add(m, reason, refusal);
    this.#o.logger.error({ jobId: m.jobId, epoch: m.epoch, type: m.type, ref: m.ref }, `dead-lettered: ${reason}`);
    if (m.type === "job:completed") {
      const message = `the job's result could not be delivered: ${reason}`.slice(0, MAX_REASON);
      this.#o.out.put({ type: "job:failed", jobId: m.jobId, epoch: m.epoch, error: { category: "fatal", message } });
    }
    this.#o.settled();
  }
}
