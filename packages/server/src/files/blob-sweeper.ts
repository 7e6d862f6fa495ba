import type { Store } from "../store/store.ts";
import type { BlobStore } from "./blob-store.ts";

export interface BlobSweeperOptions {
  store: Store;
  blobs: BlobStore;
  /** A blob no job references is collected this long after its last reference. */
  graceMs: number;
  intervalMs: number;
  onError: (err: unknown) => void;
}

/** Blobs claimed per sweep statement; a sweep repeats until a batch comes back short. */
const BATCH = 500;
/** Staged files untouched this long belong to no live upload. */
const STALE_STAGING_MS = 6 * 3600 * 1000;

/**
 * Collects unreferenced blobs after the grace period. Safe on every replica at once: the store claims
 * each blob in the statement that checks it (collectBlobs), so only one sweeper acts on a blob, and
 * the bytes are removed only if no re-upload recorded the blob again meanwhile (BlobStore.remove).
 */
export class BlobSweeper {
  readonly #o: BlobSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: BlobSweeperOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep().catch(this.#o.onError), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One sweep; returns how many blobs' bytes were removed. */
  async sweep(now = Date.now()): Promise<number> {
    if (this.#running) return 0;
    this.#running = true;
    let removed = 0;
    try {
      for (;;) {
        const hashes = await this.#o.store.collectBlobs(now - this.#o.graceMs, BATCH);
        for (const hash of hashes) {
          if (await this.#o.blobs.remove(hash, () => this.#o.store.blobRecorded(hash))) removed++;
        }
        if (hashes.length < BATCH) break;
      }
      // A live upload writes to its staging file continuously, so only a crash leaves one this old.
      await this.#o.blobs.removeStaleStaging(now - STALE_STAGING_MS);
      return removed;
    } finally {
      this.#running = false;
    }
  }
}
