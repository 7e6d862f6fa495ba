import { parseArgs } from "node:util";
import { GantryClient } from "@gantry/client";
import { Children } from "./lib/children.ts";
import { cpuSeconds } from "./lib/proc-stats.ts";
import { startRealAgent, waitRealAgentReady } from "./lib/real-agent.ts";
import { startServerChild } from "./lib/server-child.ts";
import { median, round } from "./lib/stats.ts";

/**
 * `npx node bench/agent-cpu.ts [--jobs 4000] [--capacity 50] [--runs 3] [--batch 1] [--agent-prof DIR]`:
 * the CPU one real agent process spends per no-op job (`debug.echo`), jobs submitted `--batch` per
 * request (1: one POST each, 50 in flight), against the server's CPU for the same jobs. Median of runs.
 * Reported, never asserted.
 */
const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "4000" },
    capacity: { type: "string", default: "50" },
    runs: { type: "string", default: "3" },
    batch: { type: "string", default: "1" },
    "agent-prof": { type: "string" },
  },
});
const jobs = Number(values.jobs);
const batch = Math.max(1, Number(values.batch));
const children = new Children();
process.once("exit", () => children.killAllNow());
try {
  const server = await startServerChild(children);
  const agent = startRealAgent(children, server.url, server.bootstrap.agentKey, {
    capacity: Number(values.capacity),
    capability: "debug.echo",
    cpuProfDir: values["agent-prof"],
  });
  await waitRealAgentReady(agent);
  const client = new GantryClient({ url: server.url, apiKey: server.bootstrap.clientKey });
  const wave = async (n: number) => {
    const ids: string[] = [];
    let next = 0;
    const producer = async () => {
      while (next < n) {
        const k = Math.min(batch, n - next);
        next += k;
        if (batch === 1) ids.push((await client.submit("debug.echo", { n: next })).id);
        else
          ids.push(
            ...(
              await client.submitBatch(Array.from({ length: k }, () => ({ capability: "debug.echo", payload: {} })))
            ).map((j) => j.id),
          );
      }
    };
    await Promise.all(Array.from({ length: batch === 1 ? 50 : 4 }, producer));
    for (const id of ids) {
      const j = await client.wait(id);
      if (j.status !== "completed") throw new Error(`job ${id} ended ${j.status}`);
    }
  };
  await wave(500); // warm-up
  const agentMs: number[] = [];
  const serverMs: number[] = [];
  const rates: number[] = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const a0 = cpuSeconds(agent.pid!);
    const s0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    await wave(jobs);
    rates.push(jobs / ((performance.now() - t0) / 1000));
    agentMs.push(((cpuSeconds(agent.pid!) - a0) * 1000) / jobs);
    serverMs.push(((cpuSeconds(server.pid) - s0) * 1000) / jobs);
    console.log(
      `· run ${run + 1}: agent ${agentMs.at(-1)!.toFixed(3)} ms/job, server ${serverMs.at(-1)!.toFixed(3)} ms/job, ${rates.at(-1)!.toFixed(0)} jobs/s`,
    );
  }
  console.log(
    JSON.stringify({
      jobs,
      batch,
      capacity: Number(values.capacity),
      agentCpuMsPerJob: round(median(agentMs), 3),
      serverCpuMsPerJob: round(median(serverMs), 3),
      jobsPerSec: round(median(rates)),
    }),
  );
} finally {
  await children.stopAll();
}
