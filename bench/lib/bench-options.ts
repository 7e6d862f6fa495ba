import { parseArgs } from "node:util";

export const SECTIONS = ["throughput", "latency", "connections", "idle"] as const;
export type Section = (typeof SECTIONS)[number];

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
};

const QUICK: typeof FULL = {
  throughput: { ...FULL.throughput, agents: 2, batchJobs: 2000, singleJobs: 300, runs: 1, realRuns: 1, warmupJobs: 0 },
  latency: { ...FULL.latency, warmupMs: 300, measureMs: 1000, agents: 2 },
  connections: { agents: 400, processes: 2, concurrency: 50, settleMs: 1000 },
  idle: { seconds: 3 },
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
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      "npm run bench -- [--quick] [--only throughput,latency,connections,idle] [--rates 1000,5000] [--server-prof DIR] [--agent-prof DIR]\n",
    );
    process.exit(0);
  }
  const only = new Set<Section>();
  for (const s of (values.only ?? SECTIONS.join(",")).split(",").map((x) => x.trim())) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}"`);
    only.add(s as Section);
  }
  const base = structuredClone(values.quick ? QUICK : FULL);
  if (values.rates) {
    base.latency.rates = values.rates.split(",").map(Number);
    if (base.latency.rates.some((r) => !(r > 0))) throw new Error(`--rates: expected numbers, got "${values.rates}"`);
  }
  return {
    quick: values.quick ?? false,
    only,
    serverProfDir: values["server-prof"],
    agentProfDir: values["agent-prof"],
    ...base,
  };
}
