import type { Store } from "../store/store.ts";

export interface RetentionSweepOptions {
  store: Store;
  /** Finished jobs older than this are deleted; 0 keeps them for ever. */
  retentionMs: number;
  /** Audit entries older than this are deleted; 0 keeps them for ever. */
  auditRetentionMs: number;
  /** How often to sweep. */
  intervalMs: number;
  /** Rows per delete statement: small, so no batch holds the write lock long enough to stall dispatch. */
  batchSize: number;
  onError(err: unknown): void;
}

/**
 * Deletes finished jobs (with logs and attempts) past the retention age, and audit entries past the
 * audit retention age, in batches of batchSize, yielding to the event loop between batches so
 * dispatch and acks interleave. Safe on every replica: each batch picks and deletes its rows in one
 * statement.
 */
export class RetentionSweep {
  readonly #o: RetentionSweepOptions;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;

  constructor(options: RetentionSweepOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#o.retentionMs <= 0 && this.#o.auditRetentionMs <= 0) return;
    this.#timer = setInterval(() => void this.sweep(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  /** One pass: bounded steps until a short one; returns how many jobs and audit entries were deleted. */
  async sweep(): Promise<{ jobs: number; audit: number }> {
    const total = { jobs: 0, audit: 0 };
    if (this.#running) return total;
    this.#running = true;
    const { store, batchSize } = this.#o;
    try {
      if (this.#o.retentionMs > 0) {
        const cutoff = Date.now() - this.#o.retentionMs;
        while (!this.#stopped) {
          const step = await store.deleteFinishedBefore(cutoff, batchSize);
          total.jobs += step.jobs;
          if (step.jobs < batchSize && step.logs < batchSize) break;
          await new Promise((r) => setImmediate(r));
        }
      }
      if (this.#o.auditRetentionMs > 0) {
        const cutoff = Date.now() - this.#o.auditRetentionMs;
        while (!this.#stopped) {
          const n = await store.deleteAuditBefore(cutoff, batchSize);
          total.audit += n;
          if (n < batchSize) break;
          await new Promise((r) => setImmediate(r));
        }
      }
    } catch (err) {
      this.#o.onError(err);
    } finally {
      this.#running = false;
    }
    return total;
  }
}
