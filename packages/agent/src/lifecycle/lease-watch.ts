import type { HeldJob } from "@gantry/protocol";

export interface LeaseWatchOptions {
  /** Jobs whose lapse matters: the running ones (a lapsed one holds a slot and may run twice). */
  held(): HeldJob[];
  /** The job's lease lapsed with no word from the server: the server will have requeued it. */
  lapsed(job: HeldJob, silentMs: number): void;
}

const key = (j: HeldJob) => `${j.jobId}@${j.epoch}`;

/**
 * The agent's own view of its leases. The server renews a job's lease when it commits a heartbeat
 * that lists it, and says so with `heartbeat:ack`; the send time of that heartbeat is when the lease
 * was last confirmed. A job silent for longer than the lease is stopped here, as the server will have
 * given it to someone else.
 *
 * The clock runs only once a server has shown it answers heartbeats (a `heartbeat:ack` on the latest
 * link): an older server never acks, and must not make every job lapse. It keeps running while the
 * link is down, which is the case it exists for.
 */
export class LeaseWatch {
  readonly #o: LeaseWatchOptions;
  readonly #confirmed = new Map<string, number>();
  #leaseMs = 0;
  #armed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LeaseWatchOptions) {
    this.#o = options;
  }

  /** A new link was welcomed: the server's lease length; the jobs it kept were confirmed at `at` (hello). */
  welcomed(leaseSecs: number, kept: HeldJob[], at: number): void {
    this.#leaseMs = leaseSecs * 1000;
    this.#armed = false;
    this.confirm(kept, at);
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = setInterval(() => this.check(), Math.max(50, Math.min(1000, this.#leaseMs / 4)));
    this.#timer.unref();
  }

  /** A heartbeat:ack arrived: this server renews leases, so silence from now on means lapsed ones. */
  acked(): void {
    this.#armed = true;
  }

  /** The server has (re)confirmed these leases as of `at`. */
  confirm(jobs: HeldJob[], at: number): void {
    for (const j of jobs) {
      const k = key(j);
      if ((this.#confirmed.get(k) ?? 0) < at) this.#confirmed.set(k, at);
    }
  }

  check(now = Date.now()): void {
    const held = this.#o.held();
    const live = new Set(held.map(key));
    for (const k of this.#confirmed.keys()) if (!live.has(k)) this.#confirmed.delete(k);
    for (const j of held) {
      const last = this.#confirmed.get(key(j));
      if (last === undefined) {
        this.#confirmed.set(key(j), now); // first seen: its clock starts now
        continue;
      }
      if (!this.#armed || this.#leaseMs <= 0 || now - last <= this.#leaseMs) continue;
      this.#confirmed.delete(key(j));
      this.#o.lapsed(j, now - last);
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
