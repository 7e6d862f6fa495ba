/**
 * The one backoff in Gantry: exponential from `baseMs`, capped at `capMs`, with "equal jitter" (half
 * the step fixed, half random). Agent reconnects, SDK retries and server-side job retries all use it,
 * so a fleet that lost its server together does not come back in lockstep, yet no delay is shorter
 * than half its step.
 */
export interface BackoffPolicy {
  /** First step in ms. */
  baseMs: number;
  /** Largest step in ms. */
  capMs: number;
}

/** Delay before retry number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(step / 2 + random() * (step / 2));
}
