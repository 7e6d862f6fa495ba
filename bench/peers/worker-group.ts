import { type Children, nextMessage } from "../lib/children.ts";
import { Fleet } from "../lib/fleet.ts";
import type { FleetToParent } from "../lib/fleet-messages.ts";

/**
 * Forks the worker processes of one system (lib/fleet-main.ts for Gantry's protocol agents,
 * worker-main.ts for BullMQ and graphile-worker; all speak FleetToParent), waits until each reports
 * ready, and hands them to a Fleet, which counts completions and collects latency samples.
 */
export async function startWorkerGroup(
  children: Children,
  name: string,
  file: string,
  configs: unknown[],
): Promise<Fleet> {
  const procs = configs.map((c, i) => children.fork(`${name}#${i}`, file, c));
  const group = Fleet.adopt(children, procs);
  const readies = await Promise.all(
    procs.map((p) => nextMessage<FleetToParent & { type: "ready" }>(p, (m) => m?.type === "ready", 60_000)),
  );
  const bad = readies.find((r) => r.connected === 0);
  if (bad) throw new Error(`${name} worker failed to start: ${bad.firstError}`);
  return group;
}
