import type { BenchOptions } from "./bench-options.ts";
import type { Children } from "./children.ts";
import { Fleet } from "./fleet.ts";
import { CpuMeter, rssMb } from "./proc-stats.ts";
import { startServerChild } from "./server-child.ts";
import { round } from "./stats.ts";

export interface ConnectionsResult {
  agents: number;
  connected: number;
  failed: number;
  firstError: string | null;
  processes: number;
  /** Time for the slowest fleet process to register, authenticate and connect its agents. */
  connectSeconds: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  /** RSS after a full GC in the server, before and after. */
  rssBeforeGcMb: number;
  rssAfterGcMb: number;
  perConnectionKb: number;
  /** Server CPU while the agents sit idle and heartbeat, % of one core. */
  idleServerCpuPct: number;
  heartbeatIntervalSecs: number;
  /** Agents whose socket the server closed during the idle period. */
  closedDuringIdle: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Server RSS with many idle, connected, heartbeating protocol agents. */
export async function runConnections(
  children: Children,
  o: BenchOptions,
  log: (line: string) => void,
): Promise<ConnectionsResult> {
  const c = o.connections;
  const heartbeatIntervalSecs = 10;
  const server = await startServerChild(children, {
    cpuProfDir: o.serverProfDir,
    server: { heartbeatIntervalSecs },
  });
  try {
    await sleep(1000);
    const rssBeforeMb = rssMb(server.pid);
    await server.gc();
    const rssBeforeGcMb = rssMb(server.pid);
    log(`connections: server RSS before ${round(rssBeforeMb, 1)} MB; connecting ${c.agents} agents…`);
    const { fleet, ready } = await Fleet.start(
      children,
      {
        url: server.url,
        agentKey: server.bootstrap.agentKey,
        capability: "bench.idle",
        capacity: 1,
        mode: "idle",
        concurrency: c.concurrency,
        total: c.agents,
        processes: c.processes,
      },
      240_000,
    );
    log(`connections: ${ready.connected} connected in ${round(ready.seconds, 1)} s (${ready.failed} failed)`);
    await sleep(c.settleMs);
    const cpu = new CpuMeter(server.pid).start();
    await sleep(Math.max(c.settleMs, heartbeatIntervalSecs * 1000));
    const idleServerCpuPct = cpu.stop();
    const rssAfterMb = rssMb(server.pid);
    await server.gc();
    const rssAfterGcMb = rssMb(server.pid);
    const stats = await fleet.stats();
    await fleet.stop();
    return {
      agents: c.agents,
      connected: ready.connected,
      failed: ready.failed,
      firstError: ready.firstError,
      processes: c.processes,
      connectSeconds: round(ready.seconds, 1),
      rssBeforeMb: round(rssBeforeMb, 1),
      rssAfterMb: round(rssAfterMb, 1),
      rssBeforeGcMb: round(rssBeforeGcMb, 1),
      rssAfterGcMb: round(rssAfterGcMb, 1),
      perConnectionKb: ready.connected > 0 ? round(((rssAfterMb - rssBeforeMb) * 1024) / ready.connected, 1) : 0,
      idleServerCpuPct: round(idleServerCpuPct, 1),
      heartbeatIntervalSecs,
      closedDuringIdle: stats.closed,
    };
  } finally {
    await server.stop();
  }
}
