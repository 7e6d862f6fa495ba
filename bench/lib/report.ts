import { mkdirSync, writeFileSync } from "node:fs";
import { type LlmBenchResult, renderLlmBench } from "../llm-bench.ts";
import type { PeersResult } from "../peers/peers-bench.ts";
import { renderPeers } from "../peers/peers-report.ts";
import type { AgentIdleRssResult } from "./agent-idle-rss.ts";
import type { ConnectionsResult } from "./connections-bench.ts";
import type { FilesResult } from "./files-bench.ts";
import type { IdleAgentResult } from "./idle-agent-bench.ts";
import type { LatencyPoint } from "./latency-bench.ts";
import type { MachineInfo } from "./machine-info.ts";
import { type MediaResult, renderMedia } from "./media-gantry.ts";
import type { MqttBenchResult } from "./mqtt-bench.ts";
import type { ThroughputResult } from "./throughput-bench.ts";

/** Everything one `npm run bench` measured; written as JSON to bench/results/. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: MachineInfo;
  notes: string[];
  settings: unknown;
  throughput?: ThroughputResult | { error: string };
  latency?: LatencyPoint[] | { error: string };
  connections?: ConnectionsResult | { error: string };
  idleAgent?: IdleAgentResult | { error: string };
  /** A real `gantry agent` CLI process: idle RSS and its first job (bench/agent-idle-rss.ts). */
  cliAgent?: AgentIdleRssResult | { error: string };
  llm?: LlmBenchResult | { error: string };
  files?: FilesResult | { error: string };
  peers?: PeersResult | { error: string };
  mqtt?: MqttBenchResult | { error: string };
  media?: MediaResult | { error: string };
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits }) : "n/a";

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
      return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

/** The human-readable summary printed at the end. */
export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`Gantry bench ${r.quick ? "(--quick) " : ""}${r.startedAt}`);
  out.push(`${m.cpus} CPUs (${m.model}), ${fmt(m.memoryMb)} MB, Node ${m.node}, ${m.platform}`);
  out.push(`load average at start: ${m.loadAverage.join(" / ")} (1/5/15 min)`);
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push("");

  const t = r.throughput;
  if (t && "error" in t) out.push(`throughput: ERROR ${t.error}`);
  else if (t) {
    const rows = [
      [
        "throughput (end to end)",
        "jobs",
        "jobs/s",
        "runs",
        "submit-only jobs/s",
        "server CPU %",
        "server CPU ms/job",
        "agents CPU %",
      ],
    ];
    const add = (label: string, s: ThroughputResult["protocolAgents"]["batch"]) => {
      const last = s.runs[s.runs.length - 1]!;
      rows.push([
        label,
        fmt(last.jobs),
        fmt(s.medianJobsPerSec),
        s.runs.map((x) => fmt(x.jobsPerSec)).join(" / "),
        fmt(last.submitJobsPerSec),
        fmt(last.serverCpuPct),
        fmt(last.serverCpuMsPerJob, 3),
        fmt(last.agentsCpuPct),
      ]);
    };
    add("batch submit, protocol agents", t.protocolAgents.batch);
    add("single submit x32, protocol agents", t.protocolAgents.single);
    if ("batch" in t.gantryAgents) add("batch submit, gantry agents", t.gantryAgents.batch);
    out.push(table(rows));
    if ("skipped" in t.gantryAgents) out.push(`gantry agents: skipped (${t.gantryAgents.skipped})`);
    out.push("");
  }

  const l = r.latency;
  if (l && "error" in l) out.push(`latency: ERROR ${l.error}`);
  else if (l) {
    const rows = [
      [
        "submit→agent latency (open loop)",
        "achieved/s",
        "samples",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "201 p99 ms",
        "loop delay p99/max ms",
        "server CPU %",
      ],
    ];
    for (const p of l) {
      rows.push([
        `${fmt(p.offeredRate)}/s offered, ${p.mode === "single" ? `1 POST/job, ${p.senders} sender(s)` : "batch every 10 ms"}`,
        fmt(p.achievedRate),
        fmt(p.samples),
        fmt(p.p50, 2),
        fmt(p.p90, 2),
        fmt(p.p99, 2),
        fmt(p.max, 2),
        fmt(p.submitResponse.p99, 2),
        `${fmt(p.serverLoopDelay.p99, 1)} / ${fmt(p.serverLoopDelay.max, 1)}`,
        fmt(p.serverCpuPct),
      ]);
    }
    out.push(table(rows));
    out.push("  201 = submit round trip seen by the sender; loop delay = the server's event-loop delay in the window");
    out.push("");
  }

  const c = r.connections;
  if (c && "error" in c) out.push(`connections: ERROR ${c.error}`);
  else if (c) {
    out.push(
      table([
        ["idle connected agents", "connected", "RSS before MB", "RSS after MB", "KB/conn", "after GC MB", "idle CPU %"],
        [
          `${fmt(c.agents)} over ${c.processes} processes`,
          `${fmt(c.connected)}${c.failed ? ` (${c.failed} failed)` : ""}`,
          fmt(c.rssBeforeMb, 1),
          fmt(c.rssAfterMb, 1),
          fmt(c.perConnectionKb, 1),
          fmt(c.rssAfterGcMb, 1),
          fmt(c.idleServerCpuPct, 1),
        ],
      ]),
    );
    out.push(`  connect time ${fmt(c.connectSeconds, 1)} s; heartbeats every ${c.heartbeatIntervalSecs} s`);
    if (c.firstError) out.push(`  first connect error: ${c.firstError}`);
    out.push("");
  }

  const i = r.idleAgent;
  if (i && "error" in i) out.push(`idle agent: ERROR ${i.error}`);
  else if (i && "skipped" in i) out.push(`idle agent: skipped (${i.skipped})`);
  else if (i) {
    out.push(
      table([
        ["idle gantry agent", "RSS MB", "max RSS MB", "CPU %"],
        [`capacity ${i.capacity}, ${i.seconds} s window`, fmt(i.rssMb, 1), fmt(i.rssMaxMb, 1), fmt(i.cpuPct, 2)],
      ]),
    );
    out.push("");
  }

  const g = r.cliAgent;
  if (g && "error" in g) out.push(`gantry agent (CLI): ERROR ${g.error}`);
  else if (g) {
    out.push(
      table([
        ["gantry agent (CLI), capacity 4", "runs", "start ms", "idle RSS MB", "first job ms", "next jobs ms"],
        ["", g.entry, fmt(g.startMs, 0), fmt(g.rssMb, 1), fmt(g.firstJobMs, 1), fmt(g.warmJobMs, 1)],
      ]),
    );
    out.push("");
  }

  const f = r.files;
  if (f && "error" in f) out.push(`files: ERROR ${f.error}`);
  else if (f) {
    out.push(
      table([
        [`one ${fmt(f.bytes / 1024 ** 2)} MiB file, loopback`, "MB/s", "seconds", "server RSS growth MB"],
        ["upload (POST /v1/files)", fmt(f.upload.mbPerSec), fmt(f.upload.seconds, 2), fmt(f.upload.rssGrowthMb, 1)],
        [
          "download (GET /v1/files/:hash)",
          fmt(f.download.mbPerSec),
          fmt(f.download.seconds, 2),
          fmt(f.download.rssGrowthMb, 1),
        ],
      ]),
    );
    out.push("");
  }

  const llm = r.llm;
  if (llm && "error" in llm) out.push(`llm: ERROR ${llm.error}`);
  else if (llm) out.push(renderLlmBench(llm), "");

  const p = r.peers;
  if (p && "error" in p) out.push(`peers: ERROR ${p.error}`);
  else if (p) out.push(renderPeers(p, table));

  const media = r.media;
  if (media && "error" in media) out.push(`media: ERROR ${media.error}`);
  else if (media) out.push(renderMedia(media));
  return out.join("\n");
}

/** Writes `<dir>/<timestamp>.json` and `<dir>/latest.json`; returns the first path. */
export function writeReport(dir: string, r: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(r, null, 2)}\n`;
  const file = `${dir}/${r.startedAt.replace(/[:.]/g, "-")}.json`;
  writeFileSync(file, json);
  writeFileSync(`${dir}/latest.json`, json);
  return file;
}
