import type { PeerLatencyPoint, PeerSeries, PeerSystemResult, PeersResult } from "./peers-bench.ts";

const fmt = (n: number | undefined, digits = 0) =>
  n !== undefined && Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits }) : "n/a";

function label(s: PeerSystemResult, versions: Record<string, string>): string {
  if (s.system === "gantry") return "Gantry (one POST per job; real agents)";
  if (s.system === "bullmq") return `BullMQ ${versions.bullmq} + Redis (no persistence)`;
  return `graphile-worker ${versions["graphile-worker"]}${s.system === "graphile-batched" ? ", batched settings" : ", defaults"}`;
}

function latencyCell(p: PeerLatencyPoint | undefined): string {
  if (!p) return "not run";
  const ms = `${fmt(p.p50, 1)} / ${fmt(p.p99, 1)}`;
  return p.overloaded ? `${ms} overloaded (${fmt(p.acceptedPerSec)}/s)` : ms;
}

const cpuCell = (a?: PeerSeries, b?: PeerSeries) => `${fmt(a?.medianCpuMsPerJob, 2)} / ${fmt(b?.medianCpuMsPerJob, 2)}`;

/** The peers table (system × metric) plus the notes a reader needs to weigh it. */
export function renderPeers(r: PeersResult, table: (rows: string[][]) => string): string {
  const o = r.settings;
  const rates = o.rates;
  const rows = [
    [
      "peers: same workload, same box",
      "single adds jobs/s",
      `bulk adds of ${o.batchSize} jobs/s`,
      "CPU ms/job single / bulk",
      ...rates.map((x) => `p50 / p99 ms at ${fmt(x)}/s`),
    ],
  ];
  for (const s of r.systems) {
    rows.push([
      label(s, r.versions),
      fmt(s.single?.medianJobsPerSec),
      fmt(s.bulk?.medianJobsPerSec),
      cpuCell(s.single, s.bulk),
      ...rates.map((x) => latencyCell(s.latency.find((p) => p.rate === x))),
    ]);
    if (s.pipelined)
      rows.push([
        "Gantry, SDK pipelined submit (WebSocket)",
        fmt(s.pipelined.medianJobsPerSec),
        "",
        `${fmt(s.pipelined.medianCpuMsPerJob, 2)} /`,
        ...rates.map((x) => latencyCell(s.latencyPipelined?.find((p) => p.rate === x))),
      ]);
    if (s.bigBatch)
      rows.push([
        `Gantry, batches of ${o.gantryBigBatch} (reference)`,
        "",
        fmt(s.bigBatch.medianJobsPerSec),
        `  / ${fmt(s.bigBatch.medianCpuMsPerJob, 2)}`,
        ...rates.map(() => ""),
      ]);
  }
  const out = [table(rows)];
  const runs = o.runs > 1 ? `median of ${o.runs} interleaved runs` : "1 run (no median)";
  out.push(
    `  ${fmt(o.bulkJobs)} jobs per bulk run, ${fmt(o.singleJobs)} per single run (${runs}); ~100-byte payload; 1 producer process ` +
      `(${o.singleInFlight} single / ${o.bulkInFlight} bulk adds in flight); ${o.workers} worker processes × concurrency ${o.concurrency}`,
  );
  out.push(
    "  jobs/s = N / (first add → last completion recorded by the system); CPU = producer + workers + server/redis/postgres",
  );
  out.push(
    `  latency: open loop, single adds, ${o.warmupMs} ms warm-up + ${o.measureMs} ms measured; handler start − send time`,
  );
  out.push(
    "  Gantry's workers are real `gantry agent` processes (debug.echo, capacity = concurrency), started fresh per run; its",
  );
  out.push(
    "  completions are read from GET /v1/jobs/stats, its latency is the server's startedAt (the agent reported the executor",
  );
  out.push(
    "  started) − send time; graphile-worker: each runner on its default pool (maxPoolSize 10), 4 × 11 connections",
  );
  out.push("  durability: Redis runs without persistence, so BullMQ's acks are not durable;");
  out.push("  Gantry (SQLite, commit before ack) and graphile-worker (PostgreSQL) commit durably. As read from each:");
  for (const s of r.systems) if (s.durability) out.push(`    ${s.system}: ${s.durability}`);
  for (const s of r.systems) {
    const per = (x?: PeerSeries) => x?.runs.map((y) => fmt(y.jobsPerSec)).join(" / ") ?? "-";
    out.push(
      `  ${s.system} runs: single ${per(s.single)}; bulk ${per(s.bulk)}${s.pipelined ? `; pipelined ${per(s.pipelined)}` : ""}${s.bigBatch ? `; big ${per(s.bigBatch)}` : ""}`,
    );
    for (const e of s.errors) out.push(`  ${s.system} ERROR ${e}`);
  }
  out.push(`  peers section took ${fmt(r.seconds)} s`);
  return out.join("\n");
}

/** A Markdown table for docs and bench/results/peers-*.md. */
export function markdownTable(rows: string[][]): string {
  const [head, ...body] = rows;
  const line = (r: string[]) => `| ${r.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head!), `|${head!.map(() => "---").join("|")}|`, ...body.map(line)].join("\n");
}
