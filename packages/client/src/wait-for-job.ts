import { type BackoffPolicy, backoffDelay, isTerminal, type Job, type JobEvent } from "@gantry/protocol";
import { AuthError, ForbiddenError, JobNotFoundError, WaitTimeoutError } from "./errors.ts";
import { isRetryableError } from "./retryable.ts";
import { sleep } from "./sleep.ts";

export interface WaitOptions {
  /**
   * Give up after this many ms with a WaitTimeoutError (the job keeps running on the server).
   * @defaultValue no limit
   */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called for each event (SSE events, or status changes seen while polling). Errors it throws are ignored. */
  onEvent?: ((event: JobEvent) => void) | undefined;
  /**
   * Follow the SSE event stream; false polls only.
   * @defaultValue true
   */
  events?: boolean | undefined;
  /**
   * Polling delays when SSE is unavailable or breaks.
   * @defaultValue { baseMs: 1000, capMs: 10_000 }
   */
  poll?: BackoffPolicy | undefined;
}

export const WAIT_DEFAULTS = {
  events: true,
  poll: { baseMs: 1000, capMs: 10_000 },
} as const satisfies Required<Pick<WaitOptions, "events" | "poll">>;

/** What waitForJob needs from the client (kept narrow so the algorithm is testable on its own). */
export interface WaitSource {
  get(id: string, opts: { signal?: AbortSignal | undefined }): Promise<Job>;
  events(id: string, opts: { signal?: AbortSignal | undefined }): AsyncIterable<JobEvent>;
}

/** Errors that polling cannot fix: surface them at once instead of polling forever. */
function isFatal(error: unknown): boolean {
  return error instanceof JobNotFoundError || error instanceof AuthError || error instanceof ForbiddenError;
}

/**
 * Waits until a job is terminal and returns the full job fetched over HTTP. Follows SSE; when the
 * stream fails or ends early, polls GET with backoff (1 s doubling, capped at 10 s) until terminal.
 */
export async function waitForJob(source: WaitSource, id: string, opts: WaitOptions = {}): Promise<Job> {
  const deadline = new AbortController();
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => deadline.abort(), opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
  const emit = (event: JobEvent) => {
    try {
      opts.onEvent?.(event);
    } catch {
      // a caller's callback must not end the wait
    }
  };
  let last: Job | undefined;
  try {
    if (opts.events ?? WAIT_DEFAULTS.events) {
      try {
        for await (const event of source.events(id, { signal })) {
          emit(event);
          if (event.type === "status" && isTerminal(event.status)) {
            last = await source.get(id, { signal });
            if (isTerminal(last.status)) return last;
          }
        }
      } catch (error) {
        if (signal.aborted || isFatal(error)) throw error;
        // fall back to polling
      }
    }
    const poll = opts.poll ?? WAIT_DEFAULTS.poll;
    for (let attempt = 0; ; attempt++) {
      try {
        const job = await source.get(id, { signal });
        if (last === undefined || last.status !== job.status) {
          if (last !== undefined)
            emit({ type: "status", jobId: id, status: job.status, epoch: job.epoch, at: job.updatedAt });
        }
        last = job;
        if (isTerminal(job.status)) return job;
      } catch (error) {
        if (signal.aborted || isFatal(error) || !isRetryableError(error)) throw error;
      }
      await sleep(backoffDelay(attempt, poll), signal);
    }
  } catch (error) {
    if (deadline.signal.aborted && !opts.signal?.aborted) {
      throw new WaitTimeoutError(id, opts.timeoutMs ?? 0, await lastKnown(source, id, last));
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** One more GET (without the expired signal) so a timeout can still report where the job is. */
async function lastKnown(source: WaitSource, id: string, fallback: Job | undefined): Promise<Job | undefined> {
  try {
    return await source.get(id, {});
  } catch {
    return fallback;
  }
}
