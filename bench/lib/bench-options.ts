import { parseArgs } from "node:util";
import { PEER_SYSTEMS, type PeerSystem } from "../peers/peer-messages.ts";

export const SECTIONS = [
  "throughput",
  "latency",
  "connections",
  "idle",
  "files",
  "llm",
  "peers",
  "media",
  "mqtt",
] as const;
export type Section = (typeof SECTIONS)[number];
/**
 * `peers` needs Redis and PostgreSQL on loopback, and `media` (sharp plugins through Gantry vs sharp
 * directly) is its own question, so a plain `npm run bench` leaves both out.
 */
const DEFAULT_SECTIONS: Section[] = ["throughput", "latency", "connections", "idle", "files", "llm"];

/** The same workload against Gantry, BullMQ and graphile-worker (bench/peers). */
export interface PeersOptions {
  systems: PeerSystem[];
  /** Jobs per bulk-add run (batches of `batchSize`), and per single-add run. */
  bulkJobs: number;
  singleJobs: number;
  batchSize: number;
  /** Gantry's own batch size from the throughput section, measured once more here for reference. */
  gantryBigBatch: number;
  bulkInFlight: number;
  singleInFlight: number;
  /** Gantry's SDK pipelined submit: submits outstanding at once (they share frames). */
  pipelinedInFlight: number;
  /** Worker processes, and concurrent handlers in each. */
  workers: number;
  concurrency: number;
  /** Interleaved runs of the throughput figures (median reported). */
  runs: number;
  /** Jobs each fresh environment handles before it is measured (JIT, connection pools). */
  warmupJobs: number;
  rates: number[];
  warmupMs: number;
  measureMs: number;
  /** How long to wait for the jobs of one measurement to finish. */
  timeoutMs: number;
  redisUrl: string;
  pgUrl: string;
}

/** Every knob of one bench invocation; `--quick` swaps in the small set. */
export interface BenchOptions {
  quick: boolean;
  only: Set<Section>;
  /** Write a V8 CPU profile of every server child here (`--server-prof DIR`). */
  serverProfDir: string | undefined;
  /** Write V8 CPU profiles of every real agent process (and its worker threads) here (`--agent-prof DIR`). */
  agentProfDir: string | undefined;
  throughput: {
    agents: number;
    capacity: number;
    batchJobs: number;
    batchSize: number;
    /** Batch requests in flight at once. */
    batchInFlight: number;
    singleJobs: number;
    singleConcurrency: number;
    /** Runs of the batch figure (median reported). */
    runs: number;
    /** Runs with real @gantry/agent processes. */
    realRuns: number;
    /** Jobs of the discarded warm-up run before the measured ones (0 = none). */
    warmupJobs: number;
  };
  latency: {
    rates: number[];
    warmupMs: number;
    measureMs: number;
    agents: number;
    capacity: number;
    /** Open-loop sender processes for rates at or above 2,000/s (one below). */
    senders: number;
  };
  connections: { agents: number; processes: number; concurrency: number; settleMs: number };
  idle: { seconds: number };
  /** One file up and down over loopback. */
  files: { bytes: number };
  peers: PeersOptions;
  /** Media plugins through a real agent vs sharp directly (bench/lib/media-gantry.ts). */
  media: { images: number; capacity: number; prefetch: number; runs: number };
}

const FULL: Omit<BenchOptions, "quick" | "only" | "serverProfDir" | "agentProfDir"> = {
  throughput: {
    agents: 4,
    capacity: 256,
    batchJobs: 20_000,
    batchSize: 1000,
    batchInFlight: 4,
    singleJobs: 10_000,
    singleConcurrency: 32,
    runs: 3,
    realRuns: 1,
    warmupJobs: 2000,
  },
  latency: { rates: [1000, 5000], warmupMs: 1000, measureMs: 5000, agents: 4, capacity: 256, senders: 2 },
  connections: { agents: 10_000, processes: 8, concurrency: 100, settleMs: 5000 },
  idle: { seconds: 10 },
  files: { bytes: 1024 ** 3 },
  media: { images: 100, capacity: 2, prefetch: 2, runs: 3 },
  peers: {
    systems: ["gantry", "bullmq", "graphile"],
    bulkJobs: 20_000,
    singleJobs: 5000,
    batchSize: 100,
    gantryBigBatch: 1000,
    bulkInFlight: 4,
    singleInFlight: 32,
    pipelinedInFlight: 256,
    workers: 4,
    concurrency: 50,
    runs: 3,
    warmupJobs: 1000,
    rates: [200, 1000, 5000],
    warmupMs: 1000,
    measureMs: 5000,
    timeoutMs: 120_000,
    redisUrl: "redis://127.0.0.1:6379",
    pgUrl: "postgres://postgres@127.0.0.1:5432/test",
  },
};

const QUICK: typeof FULL = {
  throughput: { ...FULL.throughput, agents: 2, batchJobs: 2000, singleJobs: 300, runs: 1, realRuns: 1, warmupJobs: 0 },
  latency: { ...FULL.latency, warmupMs: 300, measureMs: 1000, agents: 2 },
  connections: { agents: 400, processes: 2, concurrency: 50, settleMs: 1000 },
  idle: { seconds: 3 },
  files: { bytes: 256 * 1024 ** 2 },
  media: { images: 50, capacity: 2, prefetch: 2, runs: 3 },
  peers: { ...FULL.peers, bulkJobs: 2000, singleJobs: 500, runs: 1, warmupJobs: 200, warmupMs: 300, measureMs: 1000 },
};

export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "server-prof": { type: "string" },
      "agent-prof": { type: "string" },
      rates: { type: "string" },
      peers: { type: "string" },
      "peer-runs": { type: "string" },
      "redis-url": { type: "string" },
      "pg-url": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      "npm run bench -- [--quick] [--only throughput,latency,connections,idle,files,llm,peers,media,mqtt] [--rates 1000,5000] [--server-prof DIR] [--agent-prof DIR]\n" +
        `  peers: [--peers ${PEER_SYSTEMS.join(",")}] [--peer-runs N] [--redis-url URL] [--pg-url URL]\n`,
    );
    process.exit(0);
  }
  const only = new Set<Section>();
  for (const s of (values.only ?? DEFAULT_SECTIONS.join(",")).split(",").map((x) => x.trim())) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}"`);
    only.add(s as Section);
  }
  const base = structuredClone(values.quick ? QUICK : FULL);
  if (values.rates) {
    base.latency.rates = values.rates.split(",").map(Number);
    if (base.latency.rates.some((r) => !(r > 0))) throw new Error(`--rates: expected numbers, got "${values.rates}"`);
  }
  if (values.peers) {
    base.peers.systems = values.peers.split(",").map((x) => x.trim()) as PeerSystem[];
    const bad = base.peers.systems.find((x) => !(PEER_SYSTEMS as readonly string[]).includes(x));
    if (bad) throw new Error(`--peers: unknown system "${bad}" (${PEER_SYSTEMS.join(", ")})`);
  }
  if (values["peer-runs"]) base.peers.runs = Math.max(1, Number(values["peer-runs"]) || 1);
  if (values["redis-url"]) base.peers.redisUrl = values["redis-url"];
  if (values["pg-url"]) base.peers.pgUrl = values["pg-url"];
  return {
    quick: values.quick ?? false,
    only,
    serverProfDir: values["server-prof"],
    agentProfDir: values["agent-prof"],
    ...base,
  };
}
