import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runAgentIdleRss } from "./lib/agent-idle-rss.ts";
import { parseBenchOptions } from "./lib/bench-options.ts";
import { Children } from "./lib/children.ts";
import { runConnections } from "./lib/connections-bench.ts";
import { runFiles } from "./lib/files-bench.ts";
import { runIdleAgent } from "./lib/idle-agent-bench.ts";
import { runLatency } from "./lib/latency-bench.ts";
import { machineInfo } from "./lib/machine-info.ts";
import { runMedia } from "./lib/media-gantry.ts";
import { runMqtt } from "./lib/mqtt-bench.ts";
import { type BenchReport, renderReport, writeReport } from "./lib/report.ts";
import { runThroughput } from "./lib/throughput-bench.ts";
import { runLlmBench } from "./llm-bench.ts";
import { closeOpenPeerEnvs } from "./peers/peer-env.ts";
import { runPeers } from "./peers/peers-bench.ts";
import { markdownTable, renderPeers } from "./peers/peers-report.ts";

/**
 * `npm run bench [-- --quick] [--only throughput,latency,connections,idle,files,llm,peers,media,mqtt] [--server-prof DIR] [--agent-prof DIR]`
 * Starts a Gantry server and agents as child processes on this machine, measures, prints a table and
 * writes bench/results/<timestamp>.json and latest.json. Figures are reported, never asserted.
 */
const opts = parseBenchOptions(process.argv.slice(2));
const children = new Children();
const log = (line: string) => process.stdout.write(`· ${line}\n`);
const RESULTS_DIR = fileURLToPath(new URL("./results", import.meta.url));

process.once("exit", () => children.killAllNow());
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping children\n`);
    // Peer queues live in the shared Redis/PostgreSQL: remove them before the processes go.
    void closeOpenPeerEnvs()
      .then(() => children.stopAll())
      .finally(() => process.exit(130));
  });
}

const started = new Date();
const report: BenchReport = {
  startedAt: started.toISOString(),
  finishedAt: "",
  quick: opts.quick,
  machine: machineInfo(),
  notes: [
    "server, agents and submitters share this machine's CPUs; each figure includes their contention",
    "throughput: jobs/s = N / (first submit → last completion acknowledged to an agent); protocol agents answer job:started + job:completed at once",
    "gantry agents: real @gantry/agent processes running debug.echo; the end is the last ended_at in the server's database",
    "latency: open loop, single POST /v1/jobs; measured from the sender's clock before the request to the agent's receipt of job:assign",
  ],
  settings: {
    only: [...opts.only],
    throughput: opts.throughput,
    latency: opts.latency,
    connections: opts.connections,
    idle: opts.idle,
    files: opts.files,
    peers: opts.peers,
    media: opts.media,
  },
};

/** Runs one section; an error is recorded in the report and the next section still runs. */
async function section<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  const t0 = performance.now();
  try {
    return await fn();
  } catch (err) {
    const message = (err as Error).message;
    log(`${name} failed: ${message}`);
    return { error: message };
  } finally {
    await children.stopAll();
    log(`${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

try {
  if (opts.only.has("throughput"))
    report.throughput = await section("throughput", () => runThroughput(children, opts, log));
  if (opts.only.has("latency")) report.latency = await section("latency", () => runLatency(children, opts, log));
  if (opts.only.has("connections"))
    report.connections = await section("connections", () => runConnections(children, opts, log));
  if (opts.only.has("idle")) {
    report.idleAgent = await section("idle agent", () => runIdleAgent(children, opts, log));
    report.cliAgent = await section("gantry agent (CLI)", () =>
      runAgentIdleRss(children, { seconds: opts.idle.seconds, jobs: 10 }, log),
    );
  }
  if (opts.only.has("files")) report.files = await section("files", () => runFiles(children, opts, log));
  if (opts.only.has("llm")) report.llm = await section("llm", () => runLlmBench(opts.quick, log));
  if (opts.only.has("mqtt")) {
    const quick = opts.quick;
    report.mqtt = await section("mqtt", () =>
      runMqtt({ subscribers: 1000, events: quick ? 100 : 1000, jobs: quick ? 50 : 200 }, log),
    );
    log(`mqtt: ${JSON.stringify(report.mqtt)}`);
  }
  if (opts.only.has("peers")) {
    report.notes.push(
      "peers: Gantry, BullMQ (Redis) and graphile-worker (PostgreSQL) on this box, one producer + 4 workers × 50 each, interleaved",
    );
    report.peers = await section("peers", () => runPeers(children, opts, log));
  }
  if (opts.only.has("media")) {
    report.media = await section("media", () =>
      runMedia(children, { ...opts.media, serverProfDir: opts.serverProfDir, agentProfDir: opts.agentProfDir }, log),
    );
  }
} finally {
  await children.stopAll();
}
report.finishedAt = new Date().toISOString();
process.stdout.write(`\n${renderReport(report)}\n`);
const file = writeReport(RESULTS_DIR, report);
if (report.peers && !("error" in report.peers)) {
  // The peers table as Markdown too, for docs/benchmarks.md.
  const md = `# bench:peers ${report.startedAt}\n\n${renderPeers(report.peers, markdownTable)}\n`;
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  writeFileSync(join(RESULTS_DIR, `peers-${stamp}.md`), md);
  writeFileSync(join(RESULTS_DIR, "peers-latest.md"), md);
}
process.stdout.write(
  `\nwrote ${file} and ${RESULTS_DIR}/latest.json (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)\n`,
);
