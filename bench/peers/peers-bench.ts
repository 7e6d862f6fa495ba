import { readFileSync } from "node:fs";
import type { BenchOptions, PeersOptions } from "../lib/bench-options.ts";
import type { Children } from "../lib/children.ts";
import { cpuSeconds } from "../lib/proc-stats.ts";
import { type Distribution, distribution, median, round } from "../lib/stats.ts";
import { type PeerEnv, startPeerEnv } from "./peer-env.ts";
import type { FromProducer, PeerSystem, ThroughputMode } from "./peer-messages.ts";

export interface PeerRun {
  jobs: number;
  /** First add → last completion recorded by the system. */
  seconds: number;
  jobsPerSec: number;
  /** Adds alone: first add → last add acknowledged. */
  submitJobsPerSec: number;
  /** CPU of producer + workers + broker/server/database, ms per job. */
  cpuMsPerJob: number;
}

export interface PeerSeries {
  runs: PeerRun[];
  medianJobsPerSec: number;
  medianCpuMsPerJob: number;
}

export interface PeerLatencyPoint extends Distribution {
  rate: number;
  sentMeasured: number;
  /** Adds acknowledged per second inside the measured window. */
  acceptedPerSec: number;
  /** Adds fell behind the offered rate, or the backlog did not drain in time. */
  overloaded: boolean;
  errors: number;
}

export interface PeerSystemResult {
  system: PeerSystem;
  durability: string;
  single?: PeerSeries;
  bulk?: PeerSeries;
  /** Gantry only: batches of `gantryBigBatch`, as in the throughput section. */
  bigBatch?: PeerSeries;
  /** Gantry only: the SDK's default submit, pipelined over its WebSocket. */
  pipelined?: PeerSeries;
  latency: PeerLatencyPoint[];
  /** Gantry only: open-loop latency with the SDK's pipelined submit. */
  latencyPipelined?: PeerLatencyPoint[];
  errors: string[];
}

export interface PeersResult {
  versions: Record<string, string>;
  settings: PeersOptions;
  seconds: number;
  systems: PeerSystemResult[];
}

type Submitted = Extract<FromProducer, { type: "submitted" }>;
type OpenLoopDone = Extract<FromProducer, { type: "open-loop:done" }>;

/** Summed CPU seconds of `pids`; a pid that is gone by `stop` (a closed postgres backend) is left out. */
function cpuMeter(pids: number[]) {
  const before = pids.map(cpuSeconds);
  return () => pids.reduce((s, pid, i) => s + (cpuSeconds(pid) - before[i]! || 0), 0);
}

/** One closed-loop throughput measurement on an environment: N adds, clock stops on the N-th completion. */
async function measure(env: PeerEnv, o: PeersOptions, mode: ThroughputMode, n: number, batchSize: number) {
  const target = env.workers.completed() + n;
  const cpu = cpuMeter([env.producer.pid!, ...env.workers.pids(), ...env.backendPids()]);
  const done = env.waitDone(target, o.timeoutMs);
  done.catch(() => {}); // awaited below; this keeps an early producer error from leaving it unhandled
  const inFlight = mode === "bulk" ? o.bulkInFlight : mode === "pipelined" ? o.pipelinedInFlight : o.singleInFlight;
  const sub = await env.command<Submitted>({ type: "throughput", mode, n, batchSize, inFlight }, o.timeoutMs);
  if (sub.errors > 0) throw new Error(`${sub.errors} adds failed (${sub.firstError})`);
  const seconds = ((await done) - sub.startedAt) / 1000;
  return {
    jobs: n,
    seconds: round(seconds, 3),
    jobsPerSec: round(n / seconds),
    submitJobsPerSec: round(n / (sub.submitMs / 1000)),
    cpuMsPerJob: round((cpu() * 1000) / n, 3),
  } satisfies PeerRun;
}

/** Open-loop single adds at `rate`; latency = handler start − send time, over the measured window. */
async function latencyAt(env: PeerEnv, o: PeersOptions, rate: number, pipelined = false): Promise<PeerLatencyPoint> {
  await env.workers.collectSamples(); // drop what earlier measurements left
  const base = env.workers.completed();
  const r = await env.command<OpenLoopDone>(
    { type: "open-loop", rate, warmupMs: o.warmupMs, measureMs: o.measureMs, pipelined },
    o.timeoutMs,
  );
  let drained = true;
  await env.waitDone(base + r.accepted, o.timeoutMs).catch(() => {
    drained = false;
  });
  const acceptedPerSec = r.acceptedInWindow / r.windowSecs;
  return {
    rate,
    sentMeasured: r.sentMeasured,
    acceptedPerSec: round(acceptedPerSec),
    overloaded: !drained || acceptedPerSec < 0.9 * rate,
    errors: r.errors,
    ...distribution(await env.workers.collectSamples()),
  };
}

function series(runs: PeerRun[]): PeerSeries {
  return {
    runs,
    medianJobsPerSec: round(median(runs.map((r) => r.jobsPerSec))),
    medianCpuMsPerJob: round(median(runs.map((r) => r.cpuMsPerJob)), 3),
  };
}

function versionOf(pkg: string): string {
  const file = new URL(`../../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/**
 * The peers section: the same no-op workload against each system, interleaved (run 1 of every
 * system, then run 2 …, the order rotating) so drift of this machine's speed hits all alike.
 */
export async function runPeers(children: Children, bo: BenchOptions, log: (l: string) => void): Promise<PeersResult> {
  const o = bo.peers;
  const t0 = performance.now();
  const results = new Map<PeerSystem, PeerSystemResult>(
    o.systems.map((s) => [s, { system: s, durability: "", latency: [], errors: [] }]),
  );
  const runs = new Map<string, PeerRun[]>();
  const push = (key: string, r: PeerRun) => runs.set(key, [...(runs.get(key) ?? []), r]);
  const withEnv = async (system: PeerSystem, what: string, fn: (env: PeerEnv) => Promise<void>) => {
    const res = results.get(system)!;
    let env: PeerEnv | undefined;
    try {
      env = await startPeerEnv(system, children, o);
      res.durability = env.durability;
      // Fresh processes: let JIT and connection pools settle before anything counts.
      await measure(env, o, "bulk", o.warmupJobs, o.batchSize);
      await measure(env, o, "single", Math.ceil(o.warmupJobs / 2), 1);
      if (system === "gantry") await measure(env, o, "pipelined", Math.ceil(o.warmupJobs / 2), 1);
      await fn(env);
    } catch (err) {
      const msg = `${what}: ${(err as Error).message}`;
      res.errors.push(msg);
      log(`peers ${system} ${msg}`);
    } finally {
      await env?.close();
    }
  };

  for (let run = 0; run < o.runs; run++) {
    const order = o.systems.map((_, i) => o.systems[(i + run) % o.systems.length]!);
    for (const system of order)
      await withEnv(system, `throughput run ${run + 1}`, async (env) => {
        const single = await measure(env, o, "single", o.singleJobs, 1);
        push(`${system}/single`, single);
        const bulk = await measure(env, o, "bulk", o.bulkJobs, o.batchSize);
        push(`${system}/bulk`, bulk);
        let extra = "";
        if (system === "gantry") {
          const piped = await measure(env, o, "pipelined", o.singleJobs, 1);
          push(`${system}/pipelined`, piped);
          const big = await measure(env, o, "bulk", o.bulkJobs, o.gantryBigBatch);
          push(`${system}/big`, big);
          extra = `, SDK pipelined ${piped.jobsPerSec}/s, batch ${o.gantryBigBatch} ${big.jobsPerSec}/s`;
        }
        log(
          `peers run ${run + 1}/${o.runs} ${system}: single ${single.jobsPerSec}/s, bulk ${bulk.jobsPerSec}/s${extra}`,
        );
      });
  }
  for (const [key, list] of runs) {
    const [system, kind] = key.split("/") as [PeerSystem, "single" | "bulk" | "big" | "pipelined"];
    results.get(system)![kind === "big" ? "bigBatch" : kind] = series(list);
  }

  for (const system of o.systems)
    await withEnv(system, "latency", async (env) => {
      for (const rate of o.rates) {
        const p = await latencyAt(env, o, rate);
        results.get(system)!.latency.push(p);
        log(
          `peers latency ${system} at ${rate}/s: p50 ${p.p50} ms, p99 ${p.p99} ms, adds acked ${p.acceptedPerSec}/s${p.overloaded ? " (overloaded)" : ""}`,
        );
        // A backlog left behind would be counted against the next rate.
        if (p.overloaded) break;
      }
      if (system !== "gantry") return;
      const piped: PeerLatencyPoint[] = [];
      results.get(system)!.latencyPipelined = piped;
      for (const rate of o.rates) {
        const p = await latencyAt(env, o, rate, true);
        piped.push(p);
        log(
          `peers latency gantry (SDK pipelined) at ${rate}/s: p50 ${p.p50} ms, p99 ${p.p99} ms, adds acked ${p.acceptedPerSec}/s${p.overloaded ? " (overloaded)" : ""}`,
        );
        if (p.overloaded) break;
      }
    });

  return {
    versions: { bullmq: versionOf("bullmq"), "graphile-worker": versionOf("graphile-worker"), node: process.version },
    settings: o,
    seconds: round((performance.now() - t0) / 1000, 1),
    systems: [...results.values()],
  };
}
