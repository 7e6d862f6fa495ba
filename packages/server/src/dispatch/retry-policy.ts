import { type JobError, MAX_BACKOFF_MS } from "@gantry/protocol";
import type { AttemptEnd, JobRecord } from "../store/store.ts";

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of a
 * burst of failures spread out without any of them retrying at once.
 */
export function backoffDelay(backoffMs: number, attempt: number, random = Math.random): number {
  const exp = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/**
 * What follows a failed attempt: cancelled if a cancel was requested, failed when the error is fatal
 * or attempts are spent, otherwise queued again after a backoff.
 */
export function endAfterFailure(job: JobRecord, error: JobError, now: number, countsAsAttempt = true): AttemptEnd {
  if (job.cancelRequestedAt !== null) return { next: "cancelled", error: null };
  const used = countsAsAttempt ? job.attemptsUsed : job.attemptsUsed - 1;
  if (error.category === "fatal" || (countsAsAttempt && used >= job.maxAttempts)) return { next: "failed", error };
  const runAfter = countsAsAttempt ? now + backoffDelay(job.backoffMs, used) : now;
  return { next: "queued", runAfter, error, countsAsAttempt };
}
