import { setTimeout as sleep } from "node:timers/promises";
import { type BackoffPolicy, backoffDelay, isRetryableSocketCode, isRetryableStatus } from "@gantry/protocol";
import { HttpError } from "./http-client.ts";

/** Whether an agent HTTP call may succeed if tried again, by the protocol's one retryability table. */
export function isTransient(err: unknown): boolean {
  if (err instanceof HttpError) return isRetryableStatus(err.status, err.code);
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string") return isRetryableSocketCode(code);
  // Our own socket timeout (http-client.ts) carries no code.
  return /timeout|socket hang up/i.test(String((err as Error)?.message));
}

export interface RetryOptions extends BackoffPolicy {
  /** Total tries including the first. @defaultValue 5 */
  tries: number;
  signal?: AbortSignal;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export const RETRY_DEFAULTS = { baseMs: 1000, capMs: 30_000, tries: 5 } as const satisfies RetryOptions;

/** Runs `op`, retrying transient failures with the shared backoff (1 s → 30 s, 5 tries by default). */
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
