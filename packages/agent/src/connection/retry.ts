import { setTimeout as sleep } from "node:timers/promises";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";
import { HttpError } from "./http-client.ts";

/** Socket-level error codes worth retrying (the server restarting, a flaky network). */
const RETRYABLE_SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
]);
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** The retryability table for the agent's HTTP calls: 408/425/429/5xx and socket errors; never other 4xx. */
export function isTransient(err: unknown): boolean {
  if (err instanceof HttpError) return RETRYABLE_STATUS.has(err.status);
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && RETRYABLE_SOCKET_CODES.has(code)) return true;
  return /timeout|socket hang up/i.test(String((err as Error)?.message));
}

export interface RetryOptions extends BackoffOptions {
  /** Total tries including the first. @defaultValue 5 */
  tries: number;
  signal?: AbortSignal;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export const RETRY_DEFAULTS = { baseMs: 1000, capMs: 30_000, tries: 5 } as const satisfies RetryOptions;

/** Runs `op`, retrying transient failures with backoff (1 s → 30 s, 5 tries by default). */
export async function withRetry<T>(op: () => Promise<T>, options: Partial<RetryOptions> = {}): Promise<T> {
  const o = { ...RETRY_DEFAULTS, ...options };
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt + 1 >= o.tries || !isTransient(err) || o.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, o);
      o.onRetry?.(err, attempt + 1, delay);
      await sleep(delay, undefined, o.signal ? { signal: o.signal } : undefined);
    }
  }
}
