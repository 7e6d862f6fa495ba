import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Job } from "@gantry/protocol";
import { Api } from "./helpers/api.ts";
import { startPrivatePostgres } from "./helpers/private-postgres.ts";
import { freePort, type Proc, spawnAgent, spawnServer } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";

/**
 * PostgreSQL crashed and restarted under load, with two replicas and real agents: the servers
 * recover by themselves and nothing acknowledged is lost. The test runs a PostgreSQL cluster of its
 * own, so crashing it disturbs no other user of the machine's server.
 */
const postgres = await startPrivatePostgres();
if (!postgres) console.log("# SKIP PostgreSQL restart test: no PostgreSQL binaries (initdb) on this machine");
const SERVER = { heartbeatIntervalSecs: 0.5, leaseSecs: 5, sweepIntervalMs: 100, logLevel: "error" };
const procs: Proc[] = [];
const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  for (const c of cleanup) await c();
  await postgres?.stop();
});

function completedOnce(job: Job): boolean {
  const successes = job.attempts.filter((a) => a.endedAt !== null && a.error === null);
  return job.status === "completed" && successes.length === 1 && successes[0]!.epoch === job.epoch;
}

test("PostgreSQL restarted under load: the replicas recover by themselves, nothing acknowledged is lost", {
  skip: !postgres,
  timeout: 180_000,
}, async () => {
  const dataDir = tempDir();
  cleanup.push(() => dataDir.remove());
  const servers = [];
  for (let i = 0; i < 2; i++) {
    const s = await spawnServer({
      ...SERVER,
      port: await freePort(),
      db: postgres!.url,
      dataDir: dataDir.path,
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
  await postgres!.crashRestart();
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
