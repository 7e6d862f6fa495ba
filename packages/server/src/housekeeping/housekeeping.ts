import type { Dispatcher } from "../dispatch/dispatcher.ts";
import type { ResolvedServerOptions } from "../server-options.ts";
import { StorageWatch } from "../store/storage-watch.ts";
import type { Store } from "../store/store.ts";
import { RetentionSweep } from "./retention-sweep.ts";

export interface HousekeepingDeps {
  store: Store;
  dispatcher: Dispatcher;
  options: ResolvedServerOptions;
  log(err: unknown, msg: string): void;
}

/**
 * The server's background upkeep besides leases and deadlines: retention of finished jobs, folding
 * the job counters, and the watch that notices a full disk has room again and re-kicks dispatch.
 * Each is a sweep over the store, safe on every replica.
 */
export function startHousekeeping(d: HousekeepingDeps): { stop(): void } {
  const storageWatch = new StorageWatch({
    store: d.store,
    intervalMs: 1000,
    onRecovered: () => {
      // A claim that failed while the disk was full dropped its work mark: mark every queue again.
      void d.store.queuedCapabilities().then(
        (caps) => {
          for (const cap of caps) d.dispatcher.markWork(cap);
        },
        (err: unknown) => d.log(err, "resume after storage failure"),
      );
    },
    onError: (err) => d.log(err, "storage watch failed"),
  });
  const retention = new RetentionSweep({
    store: d.store,
    retentionMs: d.options.retentionDays * 86_400_000,
    auditRetentionMs: d.options.auditRetentionDays * 86_400_000,
    intervalMs: d.options.retentionSweepIntervalMs,
    batchSize: 500,
    onError: (err) => d.log(err, "retention sweep failed"),
  });
  // The job counters' deltas (PostgreSQL) are folded every second, so a stats read sums a few
  // counter rows plus at most about a second of deltas. One pass at a time; safe on every replica.
  let compacting = false;
  const compact = setInterval(() => {
    if (compacting) return;
    compacting = true;
    d.store
      .compactJobCounts()
      .catch((err: unknown) => d.log(err, "job counter compaction failed"))
      .finally(() => {
        compacting = false;
      });
  }, 1000);
  compact.unref();
  storageWatch.start();
  retention.start();
  return {
    stop: () => {
      clearInterval(compact);
      storageWatch.stop();
      retention.stop();
    },
  };
}
