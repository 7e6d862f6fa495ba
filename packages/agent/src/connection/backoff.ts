/** Reconnect/retry delays: exponential from `baseMs`, capped at `capMs`, with "equal jitter". */
export interface BackoffOptions {
  /** @defaultValue 1000 */
  baseMs: number;
  /** @defaultValue 30000 */
  capMs: number;
}

/**
 * Delay before retry number `attempt` (0-based): half fixed, half random, so a fleet that lost its
 * server together does not reconnect in lockstep, yet no delay is shorter than half the step.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}
