import type { BenchOptions } from "./bench-options.ts";
import type { Children } from "./children.ts";
import { CpuMeter, rssMb } from "./proc-stats.ts";
import { startRealAgent, waitRealAgentReady } from "./real-agent.ts";
import { startServerChild } from "./server-child.ts";
import { round } from "./stats.ts";

export type IdleAgentResult =
  | { rssMb: number; rssMaxMb: number; cpuPct: number; seconds: number; capacity: number }
  | { skipped: string };

/** One real agent, connected and idle: its RSS and CPU over a window (defaults: metrics, status server). */
export async function runIdleAgent(
  children: Children,
  o: BenchOptions,
  log: (line: string) => void,
): Promise<IdleAgentResult> {
  const server = await startServerChild(children, { cpuProfDir: o.serverProfDir });
  try {
    const capacity = 1;
    const agent = startRealAgent(children, server.url, server.bootstrap.agentKey, {
      capacity,
      capability: "debug.echo",
      cpuProfDir: o.agentProfDir,
    });
    try {
      await waitRealAgentReady(agent);
    } catch (err) {
      log(`idle agent skipped: ${(err as Error).message}`);
      return { skipped: (err as Error).message };
    }
    const pid = agent.pid!;
    // Start-up allocations settle first; the window begins after one second.
    await new Promise((r) => setTimeout(r, 1000));
    const cpu = new CpuMeter(pid).start();
    let rssMax = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < o.idle.seconds * 1000) {
      rssMax = Math.max(rssMax, rssMb(pid));
      await new Promise((r) => setTimeout(r, 250));
    }
    const cpuPct = cpu.stop();
    const result = {
      rssMb: round(rssMb(pid), 1),
      rssMaxMb: round(rssMax, 1),
      cpuPct: round(cpuPct, 2),
      seconds: o.idle.seconds,
      capacity,
    };
    log(`idle agent: RSS ${result.rssMb} MB, CPU ${result.cpuPct}%`);
    await children.stop(agent);
    return result;
  } finally {
    await server.stop();
  }
}
