import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import pg from "pg";
import { openPostgresStore } from "../packages/server/src/store/postgres/postgres-store.ts";
import { openSqliteStore } from "../packages/server/src/store/sqlite/sqlite-store.ts";
import type { JobFilter, NewJob, Store } from "../packages/server/src/store/store.ts";
import { median, round } from "./lib/stats.ts";

/**
 * How list and stats queries (and, beside them, the claim, the sweeps and a single insert) scale
 * with the size of the jobs table: the table is filled with a bulk INSERT … SELECT to each size in
 * turn, and every query is timed through the Store, median of `reps` calls.
 *
 *   node bench/query-scaling.ts                       # SQLite, 10k / 100k / 1M jobs
 *   node bench/query-scaling.ts --backend postgres    # the local PostgreSQL, a throwaway schema
 *   node bench/query-scaling.ts --sizes 1000,10000    # quick
 *   node bench/query-scaling.ts --baseline            # without the list indexes and counters (before)
 *
 * The fill: 3 owners, 4 capabilities; 90 % completed, 5 % failed, 4 % queued, 1 % running. Ids are
 * 26 upper-case hex digits (valid ULID characters, ordered like the ULIDs the server makes).
 */
const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "sqlite" },
    sizes: { type: "string", default: "10000,100000,1000000" },
    reps: { type: "string", default: "21" },
    "pg-url": { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
    /** Drop the list indexes and counter triggers first: the figures from before they existed. */
    baseline: { type: "boolean", default: false },
  },
});
const sizes = values.sizes.split(",").map(Number);
const reps = Number(values.reps);
const backend = values.backend as "sqlite" | "postgres";

const BASELINE_DROP = [
  "DROP INDEX jobs_status_list",
  "DROP INDEX jobs_owner_status_list",
  `DROP TRIGGER jobs_count_insert${backend === "postgres" ? " ON jobs" : ""}`,
  `DROP TRIGGER ${backend === "postgres" ? "jobs_count_update ON jobs" : "jobs_count_status"}`,
  `DROP TRIGGER jobs_count_delete${backend === "postgres" ? " ON jobs" : ""}`,
];

const CAPS = ["bench.a", "bench.b", "bench.c", "bench.d"];

/** SQL that appends jobs [from, to) as described above (both dialects). */
function fillSql(dialect: "sqlite" | "postgres", from: number, to: number): string {
  const series =
    dialect === "sqlite"
      ? `WITH RECURSIVE s(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ${to})`
      : `WITH s AS (SELECT generate_series(${from}, ${to - 1})::bigint AS i)`;
  const id = dialect === "sqlite" ? "printf('%026X', i)" : "lpad(upper(to_hex(i)), 26, '0')";
  const mod = (n: number) => `(i % ${n})`;
  const status = `CASE WHEN ${mod(100)} < 90 THEN 'completed' WHEN ${mod(100)} < 95 THEN 'failed'
    WHEN ${mod(100)} < 99 THEN 'queued' ELSE 'running' END`;
  const cap = `CASE ${mod(4)} ${CAPS.map((c, k) => `WHEN ${k} THEN '${c}'`).join(" ")} END`;
  const now = Date.now() - 86_400_000;
  return `${series}
    INSERT INTO jobs (id, capability, capability_full, payload, priority, owner, max_attempts, backoff_ms, status,
      epoch, agent_id, lease_expires_at, created_at, updated_at, ended_at)
    SELECT ${id}, ${cap}, ${cap}, '{"n":1}', 0, 'owner-' || ${mod(3)}, 3, 1000, ${status},
      CASE WHEN ${mod(100)} < 90 OR ${mod(100)} >= 99 THEN 1 ELSE 0 END,
      CASE WHEN ${mod(100)} >= 99 THEN 'agent-x' ELSE NULL END,
      CASE WHEN ${mod(100)} >= 99 THEN ${now + 86_400_000 * 2} ELSE NULL END,
      ${now} + i, ${now} + i, CASE WHEN ${mod(100)} < 95 THEN ${now} + i ELSE NULL END
    FROM s`;
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return round(median(samples), 3);
}

let seq = 0;
const newJob = (): NewJob => ({
  id: `Z${String(++seq).padStart(25, "0")}`, // above every filled id: a new job is the newest
  capability: "bench.a",
  capabilityFull: "bench.a",
  payload: { n: 1 },
  inputs: [],
  priority: 0,
  owner: "owner-0",
  idempotencyKey: null,
  requestHash: null,
  timeoutSecs: null,
  maxWaitSecs: null,
  runtimeSecs: null,
  maxAttempts: 3,
  backoffMs: 1000,
  createdAt: Date.now(),
});

/** Every query the issue names, timed at the table's current size. */
async function measure(store: Store): Promise<Record<string, number>> {
  const page = (f: Partial<JobFilter>): JobFilter => ({
    owner: null,
    statuses: null,
    capability: null,
    beforeId: null,
    limit: 50,
    ...f,
  });
  const out: Record<string, number> = {};
  out["list newest (admin)"] = await timeIt(() => store.listJobs(page({})));
  out["list queued (admin)"] = await timeIt(() => store.listJobs(page({ statuses: ["queued"] })));
  out["list queued+running (admin)"] = await timeIt(() => store.listJobs(page({ statuses: ["queued", "running"] })));
  out["list queued, capability (admin)"] = await timeIt(() =>
    store.listJobs(page({ statuses: ["queued"], capability: "bench.b" })),
  );
  out["list failed (owner)"] = await timeIt(() => store.listJobs(page({ owner: "owner-1", statuses: ["failed"] })));
  out["list queued, capability (owner)"] = await timeIt(() =>
    store.listJobs(page({ owner: "owner-1", statuses: ["queued"], capability: "bench.b" })),
  );
  const lapsed = { category: "lease_expired" as const, message: "bench" };
  out["sweep: leases"] = await timeIt(() =>
    store.expireLeases(Date.now(), 100, () => ({ next: "queued", runAfter: 0, error: lapsed, countsAsAttempt: false })),
  );
  out["sweep: deadlines"] = await timeIt(() => store.failOverdueJobs(Date.now(), 100));
  out["insert one job"] = await timeIt(() => store.insertJobs([newJob()]));
  // Claim 10 then hand them back, so every rep finds the same queue.
  out["claim 10 + requeue"] = await timeIt(async () => {
    const now = Date.now();
    const got = await store.claimJobs("bench.a", Array(10).fill("agent-q"), now, now + 60_000);
    await Promise.all(
      got.map((j) =>
        store.endAttempt(
          j.id,
          "agent-q",
          j.epoch,
          { next: "queued", runAfter: 0, error: lapsed, countsAsAttempt: false },
          now,
        ),
      ),
    );
  });
  if (values.baseline) return out; // no counters to read
  out["stats (admin)"] = await timeIt(async () => {
    await store.jobCounts(null);
    await store.oldestQueuedAt(null, null);
  });
  out["stats (owner)"] = await timeIt(async () => {
    await store.jobCounts("owner-1");
    await store.oldestQueuedAt("owner-1", null);
  });
  return out;
}

const results: { size: number; fillSeconds: number; ms: Record<string, number> }[] = [];
let fill: (from: number, to: number) => Promise<void>;
let store: Store;
let cleanup: () => Promise<void>;
if (backend === "sqlite") {
  const dir = mkdtempSync(join(tmpdir(), "gantry-qs-"));
  const file = join(dir, "gantry.db");
  store = openSqliteStore(file); // migrates
  const raw = new Database(file);
  raw.pragma("journal_mode = WAL");
  if (values.baseline) for (const sql of BASELINE_DROP) raw.exec(sql);
  fill = async (from, to) => {
    for (let a = from; a < to; a += 200_000) raw.exec(fillSql("sqlite", a, Math.min(to, a + 200_000)));
    raw.exec("ANALYZE");
  };
  cleanup = async () => {
    raw.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
} else {
  const schema = `gantry_qs_${process.pid}`;
  store = await openPostgresStore({ url: values["pg-url"], schema });
  const raw = new pg.Client({ connectionString: values["pg-url"], options: `-c search_path=${schema}` });
  await raw.connect();
  if (values.baseline) for (const sql of BASELINE_DROP) await raw.query(sql);
  fill = async (from, to) => {
    for (let a = from; a < to; a += 200_000) await raw.query(fillSql("postgres", a, Math.min(to, a + 200_000)));
    await store.compactJobCounts();
    await raw.query("VACUUM ANALYZE jobs");
  };
  cleanup = async () => {
    await store.close();
    await raw.query(`DROP SCHEMA ${schema} CASCADE`);
    await raw.end();
  };
}

try {
  let filled = 0;
  for (const size of sizes) {
    const t0 = performance.now();
    await fill(filled, size);
    filled = size;
    const fillSeconds = round((performance.now() - t0) / 1000, 1);
    const ms = await measure(store);
    results.push({ size, fillSeconds, ms });
    process.stdout.write(`${backend} ${size} jobs (filled in ${fillSeconds} s)\n`);
    for (const [k, v] of Object.entries(ms)) process.stdout.write(`  ${k.padEnd(34)} ${v} ms\n`);
  }
} finally {
  await cleanup();
}

const names = Object.keys(results[0]?.ms ?? {});
const table = [
  `| query (${backend}${values.baseline ? ", baseline" : ""}, median of ${reps}) | ${results.map((r) => `${r.size.toLocaleString("en")} jobs`).join(" | ")} |`,
  `|---|${results.map(() => "---:").join("|")}|`,
  ...names.map((n) => `| ${n} | ${results.map((r) => `${r.ms[n]} ms`).join(" | ")} |`),
].join("\n");
process.stdout.write(`\n${table}\n`);
const dir = new URL("./results/", import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
writeFileSync(
  join(dir, `query-scaling-${backend}${values.baseline ? "-baseline" : ""}-${stamp}.json`),
  JSON.stringify({ backend, reps, results }, null, 2),
);
writeFileSync(join(dir, `query-scaling-${backend}${values.baseline ? "-baseline" : ""}-${stamp}.md`), `${table}\n`);
