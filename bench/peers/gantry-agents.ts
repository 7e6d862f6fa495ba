import type { ChildProcess } from "node:child_process";
import type { JobStatsResponse, ListJobsResponse } from "@gantry/protocol";
import type { Children } from "../lib/children.ts";
import { HttpJson } from "../lib/http-json.ts";
import { startRealAgent, waitRealAgentReady } from "../lib/real-agent.ts";
import { wallNow } from "../lib/stats.ts";

/** What the peers section needs of a system's workers (lib/fleet.ts's Fleet has the same shape). */
export interface PeerWorkers {
  pids(): number[];
  completed(): number;
  /** Resolves with the wall time at which the n-th completion (cumulative) was seen. */
  waitCompleted(n: number, timeoutMs: number): Promise<number>;
  /** Latency samples (ms) since the last call. */
  collectSamples(): Promise<number[]>;
  stop(): Promise<void>;
}

/**
 * Gantry's workers in the peers section: real `gantry agent` processes (startAgent from
 * @gantry/agent, the built-in no-op executor `debug.echo`), started fresh for each environment.
 * Completions are what the server has committed, read from `GET /v1/jobs/stats` (polled every
 * 5 ms while a measurement waits). Latency samples: the server's `startedAt` (recorded when the
 * agent reports the executor started) minus the producer's send time `payload.t`, for the jobs
 * finished since the last collection.
 */
export async function startGantryAgents(
  children: Children,
  o: { url: string; agentKey: string; clientKey: string; capability: string; workers: number; concurrency: number },
): Promise<PeerWorkers> {
  const procs: ChildProcess[] = [];
  for (let i = 0; i < o.workers; i++)
    procs.push(startRealAgent(children, o.url, o.agentKey, { capacity: o.concurrency, capability: o.capability }));
  try {
    await Promise.all(procs.map((p) => waitRealAgentReady(p)));
  } catch (err) {
    await Promise.all(procs.map((p) => children.stop(p)));
    throw err;
  }
  const http = new HttpJson(o.url, { bearer: o.clientKey, maxSockets: 4 });
  let completed = 0;
  /** Newest job id already sampled: collections page back to it. */
  let sampledUpTo = "";
  const readCompleted = async () => {
    const r = await http.get("/v1/jobs/stats");
    if (r.status !== 200) throw new Error(`GET /v1/jobs/stats: HTTP ${r.status}`);
    completed = (r.body as JobStatsResponse).byStatus.completed;
    return completed;
  };
  await readCompleted();
  // Everything done before the first measurement is not sampled.
  const first = await http.get(`/v1/jobs?status=completed&limit=1`);
  sampledUpTo = (first.body as ListJobsResponse).jobs[0]?.id ?? "";
  return {
    pids: () => procs.map((p) => p.pid!),
    completed: () => completed,
    async waitCompleted(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while ((await readCompleted()) < n) {
        if (Date.now() > deadline) throw new Error(`only ${completed} of ${n} jobs completed at the deadline`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return wallNow();
    },
    async collectSamples() {
      const samples: number[] = [];
      let cursor: string | null = null;
      let newest = "";
      pages: for (;;) {
        const q = `/v1/jobs?status=completed&limit=500${cursor ? `&cursor=${cursor}` : ""}`;
        const page = (await http.get(q)).body as ListJobsResponse;
        for (const j of page.jobs) {
          if (j.id <= sampledUpTo) break pages;
          newest ||= j.id;
          const p = j.payload as { t?: number; w?: boolean } | null;
          if (p && typeof p.t === "number" && !p.w && j.startedAt) samples.push(Date.parse(j.startedAt) - p.t);
        }
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      if (newest) sampledUpTo = newest;
      return samples;
    },
    async stop() {
      http.close();
      await Promise.all(procs.map((p) => children.stop(p)));
    },
  };
}
