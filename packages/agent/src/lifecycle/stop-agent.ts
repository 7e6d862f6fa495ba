import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { ControlLoop } from "./control-loop.ts";

export interface DrainOptions {
  loop: ControlLoop;
  logger: Logger;
  drainMs: number;
  abortGraceMs: number;
  /** True once the agent is finishing anyway (a second stop, a fatal error): give up quietly. */
  finishing(): boolean;
}

/**
 * The graceful half of a stop: take no new work, let running jobs finish (abort them after the
 * drain timeout), flush the outbox, deregister. The caller then closes everything.
 */
export async function drainAndDeregister(d: DrainOptions): Promise<void> {
  const { loop, logger } = d;
  logger.info({ running: loop.runner.size, drainMs: d.drainMs }, "draining: no new jobs; waiting for running jobs");
  loop.drain();
  const idle = loop.runner.whenIdle();
  const timedOut = await Promise.race([idle.then(() => false), sleep(d.drainMs, true, { ref: false })]);
  if (d.finishing()) return;
  if (timedOut && loop.runner.size > 0) {
    logger.warn({ running: loop.runner.size }, "drain timeout: aborting the remaining jobs");
    loop.runner.abortAll("shutdown");
    await Promise.race([idle, sleep(d.abortGraceMs * 2, undefined, { ref: false })]);
  }
  loop.state = "stopping";
  const flushed = await loop.waitOutboxEmpty(loop.connection === "ready" ? 10_000 : 2000);
  if (!flushed) logger.warn("outbox not empty at stop; it will be sent on next start");
  const deregistered = await loop.deregister(3000);
  if (!deregistered) logger.warn("could not deregister (server unreachable); it will see the agent as gone");
}
