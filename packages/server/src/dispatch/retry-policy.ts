import { backoffDelay, type JobError, MAX_BACKOFF_MS } from "@gantry/protocol";
import type { AttemptEnd, JobRecord } from "../store/store.ts";

/**
 * What follows a failed attempt: cancelled if a cancel was requested, failed when the error is fatal
 * or attempts are spent, otherwise queued again after a backoff.
 */
export function endAfterFailure(job: JobRecord, error: JobError, now: number, countsAsAttempt = true): AttemptEnd {
  if (job.cancelRequestedAt !== null) return { next: "cancelled", error: null };
  const used = countsAsAttempt ? job.attemptsUsed : job.attemptsUsed - 1;
  if (error.category === "fatal" || (countsAsAttempt && used >= job.maxAttempts)) return { next: "failed", error };
  const runAfter = countsAsAttempt
    ? now + backoffDelay(used - 1, { baseMs: job.backoffMs, capMs: MAX_BACKOFF_MS })
    : now;
  return { next: "queued", runAfter, error, countsAsAttempt };
}
