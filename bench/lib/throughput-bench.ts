import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { BenchOptions } from "./bench-options.ts";
import type { Children } from "./children.ts";
import { DbWatch } from "./db-watch.ts";
import { Fleet } from "./fleet.ts";
import { CpuMeter, MultiCpuMeter } from "./proc-stats.ts";
import { startRealAgent, waitRealAgentReady } from "./real-agent.ts";
import { startServerChild } from "./server-child.ts";
import { median, round, wallNow } from "./stats.ts";
import { submitBatches, submitSingles } from "./submit.ts";

export interface ThroughputRun {
  jobs: number;
  /** First submit → last completion acknowledged (protocol agents) or recorded (real agents). */
  seconds: number;
  jobsPerSec: number;
  /** Submit requests alone: first request → last 2xx. */
  submitJobsPerSec: number;
  /** Server process CPU over the run, % of one core (200% = the whole machine). */
  serverCpuPct: number;
  /** Server CPU time per job, ms (all of submit, dispatch, started, completed). */
  serverCpuMsPerJob: number;
  /** All agent processes together over the run, % of one core. */
  agentsCpuPct: number;
  nacks: number;
  completedInDb: number;
}

export interface ThroughputSeries {
  runs: ThroughputRun[];
  medianJobsPerSec: number;
}

export interface ThroughputResult {
  protocolAgents: { batch: ThroughputSeries; single: ThroughputSeries };
  gantryAgents: { batch: ThroughputSeries } | { skipped: string };
}

const NOOP = "bench.noop";
const ECHO = "debug.echo";
const TIMEOUT_MS = 120_000;

type Mode = "batch" | "single";

/** One run against protocol agents: fresh server, K agent processes, N jobs, clock stops on the N-th ack. */
async function protocolRun(children: Children, o: BenchOptions, mode: Mode, jobs?: number): Promise<ThroughputRun> {
  const t = o.throughput;
  const n = jobs ?? (mode === "batch" ? t.batchJobs : t.singleJobs);
  const server = await startServerChild(children, { cpuProfDir: o.serverProfDir });
  try {
    const { fleet, ready } = await Fleet.start(
      children,
      {
        url: server.url,
        agentKey: server.bootstrap.agentKey,
        capability: NOOP,
        capacity: t.capacity,
        mode: "work",
        concurrency: 4,
        total: t.agents,
        processes: t.agents,
      },
      60_000,
    );
    if (ready.connected !== t.agents) throw new Error(`agents failed to connect: ${ready.firstError}`);
    const cpu = new CpuMeter(server.pid).start();
    const agentCpu = new MultiCpuMeter(fleet.procs.map((p) => p.pid!)).start();
    const t0 = wallNow();
    const done = fleet.waitCompleted(n, TIMEOUT_MS);
    const payload = () => ({});
    const submit =
      mode === "batch"
        ? submitBatches(server.url, server.bootstrap.clientKey, {
            n,
            capability: NOOP,
            batchSize: t.batchSize,
            inFlight: t.batchInFlight,
            payload,
          })
        : submitSingles(server.url, server.bootstrap.clientKey, {
            n,
            capability: NOOP,
            concurrency: t.singleConcurrency,
            payload,
          });
    const [sub, lastAt] = await Promise.all([submit, done]);
    const serverCpuPct = cpu.stop();
    const agentsCpuPct = agentCpu.stop();
    if (sub.errors > 0) throw new Error(`${sub.errors} submits failed (${sub.firstError})`);
    const stats = await fleet.stats();
    const db = new DbWatch(join(server.dataDir, "gantry.db"));
    const completedInDb = db.completed(NOOP);
    db.close();
    await fleet.stop();
    return runFigures(n, (lastAt - t0) / 1000, sub.submitMs, serverCpuPct, agentsCpuPct, stats.nacks, completedInDb);
  } finally {
    await server.stop();
  }
}

/** One run against real @gantry/agent processes; completions are seen in the server's database. */
async function gantryRun(children: Children, o: BenchOptions): Promise<ThroughputRun> {
  const t = o.throughput;
  const n = t.batchJobs;
  const server = await startServerChild(children, { cpuProfDir: o.serverProfDir });
  const procs: ChildProcess[] = [];
  try {
    for (let i = 0; i < t.agents; i++)
      procs.push(
        startRealAgent(children, server.url, server.bootstrap.agentKey, {
          capacity: t.capacity,
          capability: ECHO,
          cpuProfDir: o.agentProfDir,
        }),
      );
    await Promise.all(procs.map((p) => waitRealAgentReady(p)));
    const db = new DbWatch(join(server.dataDir, "gantry.db"));
    try {
      const cpu = new CpuMeter(server.pid).start();
      const agentCpu = new MultiCpuMeter(procs.map((p) => p.pid!)).start();
      const t0 = Date.now();
      const done = db.waitCompleted(ECHO, n, TIMEOUT_MS);
      const sub = await submitBatches(server.url, server.bootstrap.clientKey, {
        n,
        capability: ECHO,
        batchSize: t.batchSize,
        inFlight: t.batchInFlight,
        payload: () => ({}),
      });
      const lastEnded = await done;
      const serverCpuPct = cpu.stop();
      const agentsCpuPct = agentCpu.stop();
      if (sub.errors > 0) throw new Error(`${sub.errors} submits failed (${sub.firstError})`);
      const seconds = (lastEnded - t0) / 1000;
      return runFigures(n, seconds, sub.submitMs, serverCpuPct, agentsCpuPct, 0, db.completed(ECHO));
    } finally {
      db.close();
    }
  } finally {
    await Promise.all(procs.map((p) => children.stop(p)));
    await server.stop();
  }
}

/** One run's figures from its raw measurements. */
function runFigures(
  n: number,
  seconds: number,
  submitMs: number,
  serverCpuPct: number,
  agentsCpuPct: number,
  nacks: number,
  completedInDb: number,
): ThroughputRun {
  return {
    jobs: n,
    seconds: round(seconds, 3),
    jobsPerSec: round(n / seconds),
    submitJobsPerSec: round(n / (submitMs / 1000)),
    serverCpuPct: round(serverCpuPct),
    serverCpuMsPerJob: round((serverCpuPct / 100) * seconds * (1000 / n), 3),
    agentsCpuPct: round(agentsCpuPct),
    nacks,
    completedInDb,
  };
}

function series(runs: ThroughputRun[]): ThroughputSeries {
  return { runs, medianJobsPerSec: round(median(runs.map((r) => r.jobsPerSec))) };
}

export async function runThroughput(
  children: Children,
  o: BenchOptions,
  log: (line: string) => void,
): Promise<ThroughputResult> {
  // A discarded first run: page cache, disk and CPU frequency settle (the first run of a series
  // otherwise comes out lowest).
  if (o.throughput.warmupJobs > 0) await protocolRun(children, o, "batch", o.throughput.warmupJobs);
  const batch: ThroughputRun[] = [];
  for (let i = 0; i < o.throughput.runs; i++) {
    const r = await protocolRun(children, o, "batch");
    log(`throughput batch run ${i + 1}/${o.throughput.runs}: ${r.jobsPerSec} jobs/s (server CPU ${r.serverCpuPct}%)`);
    batch.push(r);
  }
  const single = await protocolRun(children, o, "single");
  log(`throughput single-submit: ${single.jobsPerSec} jobs/s (server CPU ${single.serverCpuPct}%)`);
  let gantryAgents: ThroughputResult["gantryAgents"];
  try {
    const runs: ThroughputRun[] = [];
    for (let i = 0; i < o.throughput.realRuns; i++) {
      const r = await gantryRun(children, o);
      log(`throughput gantry agents run ${i + 1}/${o.throughput.realRuns}: ${r.jobsPerSec} jobs/s`);
      runs.push(r);
    }
    gantryAgents = { batch: series(runs) };
  } catch (err) {
    const reason = (err as Error).message;
    log(`throughput with gantry agents skipped: ${reason}`);
    gantryAgents = { skipped: reason };
  }
  return { protocolAgents: { batch: series(batch), single: series([single]) }, gantryAgents };
}
