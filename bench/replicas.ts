import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { Children } from "./lib/children.ts";
import { startRealAgent, waitRealAgentReady } from "./lib/real-agent.ts";
import { submitBatches } from "./lib/submit.ts";

/**
 * Replicas bench: jobs/s and end-to-end latency (submit → completed, p50/p99) with 1, 2 and 3 server
 * replicas on PostgreSQL next to one embedded SQLite server, in one run, with real agents
 * (`startAgent`, debug.echo) spread over the replicas and jobs submitted to every replica in batches.
 * Figures come from the database itself (created_at, ended_at of each job), so nothing is sampled.
 *
 *   npx node bench/replicas.ts [--jobs 3000] [--agents 3] [--capacity 16] [--pg-url postgres://…]
 *
 * Each configuration gets a fresh data dir (and schema, dropped after); only 127.0.0.1 is used.
 */
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ""), process.argv[i + 1]!);
const JOBS = Number(args.get("jobs") ?? 3000);
const AGENTS = Number(args.get("agents") ?? 3);
const CAPACITY = Number(args.get("capacity") ?? 16);
const PG_URL = args.get("pg-url") ?? "postgres://postgres@127.0.0.1:5432/test";
const SERVER_MAIN = new URL("./lib/server-main.ts", import.meta.url).pathname;

interface Row {
  config: string;
  jobsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  jobs: number;
}

const children = new Children();
process.on("SIGINT", () => {
  children.killAllNow();
  process.exit(130);
});

async function runConfig(kind: "sqlite" | "postgres", replicas: number): Promise<Row> {
  const dataDir = children.tempDir("replicas");
  const schema = `gantry_bench_${randomBytes(5).toString("hex")}`;
  const url = new URL(PG_URL);
  url.searchParams.set("schema", schema);
  const db = kind === "postgres" ? url.toString() : "";
  const servers: Array<{ url: string; bootstrap: { clientKey: string; agentKey: string } }> = [];
  for (let i = 0; i < replicas; i++) {
    const info = await new Promise<(typeof servers)[number]>((resolve, reject) => {
      const child = children.fork(
        `server-${i}`,
        SERVER_MAIN,
        { dataDir, db, replicaId: `b${i}`, logLevel: "warn" },
        { onLine: (line) => line.startsWith("{") && resolve(JSON.parse(line)) },
      );
      child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
    servers.push(info);
  }
  const keys = servers[0]!.bootstrap;
  const agents = [];
  for (let i = 0; i < AGENTS; i++) {
    agents.push(
      startRealAgent(children, servers[i % replicas]!.url, keys.agentKey, {
        capacity: CAPACITY,
        capability: "debug.echo",
      }),
    );
  }
  await Promise.all(agents.map(waitRealAgentReady));
  const reader = await openReader(kind, dataDir, schema);
  const submit = (n: number) =>
    Promise.all(
      servers.map((s) =>
        submitBatches(s.url, keys.clientKey, {
          n: Math.ceil(n / replicas),
          capability: "debug.echo",
          batchSize: 100,
          inFlight: 2,
          payload: () => ({ x: 1 }),
        }),
      ),
    );
  // Warm-up, then the measured run.
  await submit(300);
  await reader.waitCompleted(Math.ceil(300 / replicas) * replicas);
  const t0 = Date.now();
  await submit(JOBS);
  const total = Math.ceil(300 / replicas) * replicas + Math.ceil(JOBS / replicas) * replicas;
  await reader.waitCompleted(total);
  const rows = await reader.since(t0);
  await reader.close();
  for (const a of agents) await children.stop(a);
  await children.stopAll();
  if (kind === "postgres") await dropSchema(schema);
  const lat = rows.map((r) => r.ended_at - r.created_at).sort((a, b) => a - b);
  const end = Math.max(...rows.map((r) => r.ended_at));
  return {
    config: kind === "sqlite" ? "SQLite, 1 server" : `PostgreSQL, ${replicas} replica${replicas > 1 ? "s" : ""}`,
    jobs: rows.length,
    jobsPerSec: Math.round((rows.length / (end - t0)) * 1000),
    p50Ms: lat[Math.floor(lat.length * 0.5)]!,
    p99Ms: lat[Math.floor(lat.length * 0.99)]!,
  };
}

async function openReader(kind: "sqlite" | "postgres", dataDir: string, schema: string) {
  type R = { created_at: number; ended_at: number };
  if (kind === "sqlite") {
    const sq = new Database(join(dataDir, "gantry.db"), { readonly: true });
    const count = sq.prepare("SELECT count(*) AS n FROM jobs WHERE status = 'completed'");
    const since = sq.prepare("SELECT created_at, ended_at FROM jobs WHERE status = 'completed' AND created_at >= ?");
    return {
      waitCompleted: async (n: number) => {
        while ((count.get() as { n: number }).n < n) await sleep(100);
      },
      since: async (t: number) => since.all(t) as R[],
      close: async () => sq.close(),
    };
  }
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  await c.connect();
  return {
    waitCompleted: async (n: number) => {
      for (;;) {
        const { rows } = await c.query("SELECT count(*)::int AS n FROM jobs WHERE status = 'completed'");
        if (rows[0].n >= n) return;
        await sleep(100);
      }
    },
    since: async (t: number) =>
      (
        await c.query(
          "SELECT created_at::float8 AS created_at, ended_at::float8 AS ended_at FROM jobs WHERE status = 'completed' AND created_at >= $1",
          [t],
        )
      ).rows as R[],
    close: () => c.end(),
  };
}

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const results: Row[] = [];
try {
  for (const [kind, n] of [
    ["sqlite", 1],
    ["postgres", 1],
    ["postgres", 2],
    ["postgres", 3],
  ] as const) {
    const row = await runConfig(kind, n);
    results.push(row);
    console.log(
      `${row.config.padEnd(24)} ${String(row.jobsPerSec).padStart(6)} jobs/s  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  (${row.jobs} jobs)`,
    );
  }
} finally {
  await children.stopAll();
}
const dir = new URL("./results/", import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, `replicas-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
  JSON.stringify({ jobs: JOBS, agents: AGENTS, capacity: CAPACITY, results }, null, 2),
);
