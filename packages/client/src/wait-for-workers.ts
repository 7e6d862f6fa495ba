import type { CapabilitySummary } from "@gantry/protocol";
import { WorkerUnavailableError } from "./errors.ts";
import { sleep } from "./sleep.ts";

export interface WaitForWorkersOptions {
  /** Give up after this many ms with WorkerUnavailableError. @defaultValue 30_000 */
  timeout?: number | undefined;
  /** Agents needed per capability. @defaultValue 1 */
  count?: number | undefined;
  /** Delay between checks. @defaultValue 250 */
  intervalMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export const WAIT_FOR_WORKERS_DEFAULTS = { timeout: 30_000, count: 1, intervalMs: 250 } as const;

/** Polls `capabilities()` until each named capability has `count` online agents. */
export async function waitForWorkers(
  capabilities: () => Promise<CapabilitySummary[]>,
  names: readonly string[],
  opts: WaitForWorkersOptions = {},
): Promise<CapabilitySummary[]> {
  const timeout = opts.timeout ?? WAIT_FOR_WORKERS_DEFAULTS.timeout;
  const count = opts.count ?? WAIT_FOR_WORKERS_DEFAULTS.count;
  const interval = opts.intervalMs ?? WAIT_FOR_WORKERS_DEFAULTS.intervalMs;
  const deadline = Date.now() + timeout;
  const wanted = names.map((n) => n.toLowerCase());
  for (;;) {
    const all = await capabilities();
    const found = wanted.map((n) => all.find((c) => c.name === n));
    const missing = wanted.filter((_, i) => (found[i]?.agents ?? 0) < count);
    if (missing.length === 0) return found as CapabilitySummary[];
    if (Date.now() >= deadline) throw new WorkerUnavailableError(missing, count, timeout);
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), opts.signal);
  }
}
