import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Job } from "@gantry/protocol";
import pg from "pg";
import { Api } from "./helpers/api.ts";
import { freePort, type Proc, type ServerProc, spawnAgent, spawnServer } from "./helpers/processes.ts";
import { deployment, postgresReachable, TEST_PG_URL } from "./helpers/replicas.ts";
import { TcpProxy } from "./helpers/tcp-proxy.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";

/** Replicas as separate processes on one PostgreSQL, with real agents, and kill -9. */

const reachable = await postgresReachable();
const SERVER = { heartbeatIntervalSecs: 0.5, leaseSecs: 3, sweepIntervalMs: 50, logLevel: "warn" };
const procs: Proc[] = [];
const cleanup: Array<() => unknown> = [];
after(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  for (const c of cleanup) await c();
});

async function replicas(n: number, ports?: number[]) {
  const d = deployment();
  cleanup.push(() => d.drop());
  const servers: ServerProc[] = [];
  for (let i = 0; i < n; i++) {
    const port = ports?.[i] ?? (await freePort());
    const s = await spawnServer({ ...SERVER, port, db: d.db, dataDir: d.dataDir, replicaId: `r${i}` });
    procs.push(s);
    servers.push(s);
  }
  return Object.assign(servers, { schema: d.schema });
}

async function agent(server: string, key: string) {
  const dir = tempDir();
  cleanup.push(() => dir.remove());
  const a = await spawnAgent({
    server,
    key,
    configPath: join(dir.path, "agent.json"),
    dataDir: join(dir.path, "data"),
    capacity: 4,
    reconnectBaseMs: 100,
    reconnectCapMs: 500,
    drainTimeoutSecs: 1,
    statusServer: false,
    metrics: false,
    logLevel: "warn",
  });
  procs.push(a);
  return a;
}

/** One successful attempt, at the job's final epoch: no stale completion was accepted. */
function completedOnce(job: Job): boolean {
  const successes = job.attempts.filter((a) => a.endedAt !== null && a.error === null);
  return job.status === "completed" && successes.length === 1 && successes[0]!.epoch === job.epoch;
}

for (const n of [2, 3]) {
  test(`${n} replicas, agents split between them, jobs submitted to all: every job runs once`, {
    skip: !reachable,
    timeout: 120_000,
  }, async () => {
    const servers = await replicas(n);
    const key = servers[0]!.bootstrap;
    const agents = [];
    for (const s of servers) agents.push(await agent(s.url, key.agentKey));
    const apis = servers.map((s) => new Api(s.url, key.clientKey));
    const jobs: Array<{ id: string; via: number }> = [];
    await Promise.all(
      Array.from({ length: 40 * n }, async (_, i) => {
        const job = await apis[i % n]!.submit({ capability: "debug.sleep", payload: { ms: 20, i } });
        jobs.push({ id: job.id, via: i % n });
      }),
    );
    const done = await Promise.all(jobs.map((j) => apis[(j.via + 1) % n]!.waitTerminal(j.id, 60_000)));
    for (const j of done) assert.ok(completedOnce(j), `${j.id}: ${JSON.stringify(j.attempts)}`);
    const ranOn = new Set(done.map((j) => j.attempts.at(-1)!.agentId));
    assert.equal(ranOn.size, n, "every replica's agent took work");
    const home = new Map(agents.map((a, i) => [a.agentId, i]));
    const crossed = done.filter((j, i) => home.get(j.attempts.at(-1)!.agentId) !== jobs[i]!.via);
    assert.ok(crossed.length > 0, "jobs submitted to one replica ran on agents connected to others");
  });
}

test("kill -9 of one replica under load: its agents move to another, nothing acknowledged is lost, no stale completion", {
  skip: !reachable,
  timeout: 180_000,
}, async () => {
  const ports = [await freePort(), await freePort()];
  const proxy = new TcpProxy(ports);
  const proxyUrl = await proxy.start();
  cleanup.push(() => proxy.close());
  const [r0, r1] = await replicas(2, ports);
  const key = r0!.bootstrap;
  // Agents know one URL (the proxy), which spreads their connections over both replicas.
  const agents = [];
  for (let i = 0; i < 4; i++) agents.push(await agent(proxyUrl, key.agentKey));
  const apis = [new Api(r0!.url, key.clientKey), new Api(r1!.url, key.clientKey)];

  const acknowledged = new Set<string>();
  let stop = false;
  let i = 0;
  const submitter = async () => {
    while (!stop) {
      const n = i++;
      try {
        const job = await apis[n % 2]!.submit({ capability: "debug.sleep", payload: { ms: 40, n } });
        acknowledged.add(job.id);
      } catch {
        await sleep(20); // that replica is down: nothing was acknowledged
      }
    }
  };
  const submitters = Array.from({ length: 6 }, submitter);
  while (acknowledged.size < 120) await sleep(10);
  r0!.kill("SIGKILL");
  const killedAt = Date.now();
  await r0!.exited;
  // Once r0's sessions have gone stale (it stopped sweeping), every agent online is on r1.
  await sleep(2200);
  for (;;) {
    const list = (await apis[1]!.call("GET", "/v1/agents")).body.agents as Array<{ id: string; online: boolean }>;
    if (agents.every((a) => list.find((x) => x.id === a.agentId)?.online)) break;
    assert.ok(Date.now() - killedAt < 60_000, "agents reconnected to the live replica");
    await sleep(50);
  }
  console.log(
    `# all agents online on the live replica ${Date.now() - killedAt} ms after kill -9 (includes the 2.2 s wait)`,
  );
  const after = acknowledged.size;
  while (acknowledged.size < after + 60) await sleep(10);
  stop = true;
  await Promise.all(submitters);
  const done = await Promise.all([...acknowledged].map((id) => apis[1]!.waitTerminal(id, 90_000)));
  const bad = done.filter((j) => !completedOnce(j));
  assert.deepEqual(
    bad.map((j) => [j.id, j.status, j.attempts.length]),
    [],
    "every acknowledged job completed exactly once, at its last epoch",
  );
});

test("kill -9 of the replica an agent given several --server URLs is on: it moves to the next, nothing acknowledged is lost, every job once", {
  skip: !reachable,
  timeout: 180_000,
}, async () => {
  const rs = await replicas(2);
  const [r0, r1] = rs;
  const key = r0!.bootstrap;
  // No proxy: each agent knows both replicas and starts on the first one listed (r0).
  const agents = await Promise.all([0, 1].map(() => agent(`${r0!.url},${r1!.url}`, key.agentKey)));
  const apis = [new Api(r0!.url, key.clientKey), new Api(r1!.url, key.clientKey)];
  const db = new pg.Client({ connectionString: TEST_PG_URL });
  await db.connect();
  cleanup.push(() => db.end());
  const where = async () =>
    (
      await db.query<{ id: string; session_replica: string | null }>(
        `SELECT id, session_replica FROM "${rs.schema}".agents WHERE id = ANY($1)`,
        [agents.map((a) => a.agentId)],
      )
    ).rows;
  while (!(await where()).every((r) => r.session_replica === "r0")) await sleep(50);

  const acknowledged = new Set<string>();
  let stop = false;
  let i = 0;
  const submitter = async () => {
    while (!stop) {
      const n = i++;
      try {
        const job = await apis[n % 2]!.submit({ capability: "debug.sleep", payload: { ms: 40, n } });
        acknowledged.add(job.id);
      } catch {
        await sleep(20); // that replica is down: nothing was acknowledged
      }
    }
  };
  const submitters = Array.from({ length: 4 }, submitter);
  while (acknowledged.size < 60) await sleep(10);
  r0!.kill("SIGKILL");
  const killedAt = Date.now();
  await r0!.exited;
  while (!(await where()).every((r) => r.session_replica === "r1")) {
    assert.ok(Date.now() - killedAt < 60_000, "the agents reconnected to the other URL");
    await sleep(20);
  }
  // A figure, not an assertion (tests never assert timings); the issue asks for under 5 s.
  console.log(`# every agent had a session on r1 ${Date.now() - killedAt} ms after kill -9 of r0`);
  const after = acknowledged.size;
  while (acknowledged.size < after + 40) await sleep(10);
  stop = true;
  await Promise.all(submitters);
  const done = await Promise.all([...acknowledged].map((id) => apis[1]!.waitTerminal(id, 90_000)));
  const bad = done.filter((j) => !completedOnce(j));
  assert.deepEqual(
    bad.map((j) => [j.id, j.status, j.attempts.length]),
    [],
    "every acknowledged job completed exactly once, at its last epoch",
  );
});
