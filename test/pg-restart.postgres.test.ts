import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import type { Job } from "@gantry/protocol";
import { Api } from "./helpers/api.ts";
import { freePort, type Proc, spawnAgent, spawnServer } from "./helpers/processes.ts";
import { deployment, postgresReachable } from "./helpers/replicas.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";

/**
 * PostgreSQL restarted under load, with two replicas and real agents: the servers recover by
 * themselves and nothing acknowledged is lost. Opt-in (GANTRY_TEST_PG_RESTART=1): it restarts the
 * machine's PostgreSQL cluster (`pg_ctlcluster … restart`), which every other user of it notices.
 */
const optedIn = process.env.GANTRY_TEST_PG_RESTART === "1";
if (!optedIn) console.log("# SKIP PostgreSQL restart test: set GANTRY_TEST_PG_RESTART=1 (it restarts the database)");
const reachable = optedIn && (await postgresReachable());
const SERVER = { heartbeatIntervalSecs: 0.5, leaseSecs: 5, sweepIntervalMs: 100, logLevel: "error" };
const procs: Proc[] = [];
const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  for (const c of cleanup) await c();
});

/** Restarts the cluster without blocking this process: the submitters keep going meanwhile. */
async function restartPostgres(): Promise<void> {
  const version = readdirSync("/etc/postgresql")[0]!;
  await promisify(execFile)("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "restart"]);
}

function completedOnce(job: Job): boolean {
  const successes = job.attempts.filter((a) => a.endedAt !== null && a.error === null);
  return job.status === "completed" && successes.length === 1 && successes[0]!.epoch === job.epoch;
}

test("PostgreSQL restarted under load: the replicas recover by themselves, nothing acknowledged is lost", {
  skip: !reachable,
  timeout: 180_000,
}, async () => {
  const d = deployment();
  cleanup.push(() => d.drop());
  const servers = [];
  for (let i = 0; i < 2; i++) {
    const s = await spawnServer({
      ...SERVER,
      port: await freePort(),
      db: d.db,
      dataDir: d.dataDir,
      replicaId: `p${i}`,
    });
    procs.push(s);
    servers.push(s);
  }
  const key = servers[0]!.bootstrap;
  for (const s of servers) {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const a = await spawnAgent({
      server: s.url,
      key: key.agentKey,
      configPath: join(dir.path, "agent.json"),
      dataDir: join(dir.path, "data"),
      capacity: 4,
      reconnectBaseMs: 100,
      reconnectCapMs: 500,
      statusServer: false,
      metrics: false,
      logLevel: "error",
    });
    procs.push(a);
  }
  const apis = servers.map((s) => new Api(s.url, key.clientKey));
  const acknowledged = new Set<string>();
  let failures = 0;
  let stop = false;
  let n = 0;
  const submitter = async () => {
    while (!stop) {
      const i = n++;
      try {
        acknowledged.add((await apis[i % 2]!.submit({ capability: "debug.sleep", payload: { ms: 30, i } })).id);
      } catch {
        failures++; // the database is down: nothing was acknowledged
        await sleep(50);
      }
    }
  };
  const submitters = Array.from({ length: 4 }, submitter);
  while (acknowledged.size < 80) await sleep(10);
  const before = acknowledged.size;
  await restartPostgres();
  while (acknowledged.size < before + 80) await sleep(20);
  stop = true;
  await Promise.all(submitters);
  console.log(`# ${acknowledged.size} acknowledged, ${failures} submits refused while the database restarted`);
  const done = await Promise.all([...acknowledged].map((id) => apis[id.charCodeAt(25) % 2]!.waitTerminal(id, 90_000)));
  const bad = done.filter((j) => !completedOnce(j));
  assert.deepEqual(
    bad.map((j) => [j.id, j.status]),
    [],
    "every acknowledged job completed exactly once",
  );
  for (const s of servers) assert.equal(s.proc.exitCode, null, "no replica died");
});
