import type { Store } from "./store.ts";

export interface StorageWatchOptions {
  store: Store;
  /** How often to probe while writes are failing. */
  intervalMs: number;
  /** Writes work again: re-kick what a failed write may have stalled (dispatch). */
  onRecovered(): void;
  onError(err: unknown): void;
}

/**
 * While the store reports a storage issue (disk full), probes it with a tiny write every intervalMs;
 * when one commits, calls onRecovered so the queue moves again without a restart. Safe on every
 * replica: the probe is an idempotent upsert of the replica-neutral `storage_probe` meta key.
 */
export class StorageWatch {
  readonly #o: StorageWatchOptions;
  #timer: NodeJS.Timeout | undefined;
  #degraded = false;

  constructor(options: StorageWatchOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #tick(): Promise<void> {
    if (this.#o.store.storageIssue() === null) {
      if (this.#degraded) this.#recovered();
      return;
    }
    this.#degraded = true;
    try {
      await this.#o.store.setMeta("storage_probe", new Date().toISOString());
      this.#recovered();
    } catch {
      // still full: the issue stays set, /healthz keeps saying so
    }
  }

  #recovered(): void {
    this.#degraded = false;
    try {
      this.#o.onRecovered();
    } catch (err) {
      this.#o.onError(err);
    }
  }
}
