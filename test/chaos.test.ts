import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Job } from "@gantry/protocol";
import { Api } from "./helpers/api.ts";
import { freePort, type Proc, spawnAgent, spawnServer } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";

/** Failures made for real: kill -9 and SIGSTOP of separate server and agent processes. */

const SERVER = { heartbeatIntervalSecs: 0.5, leaseSecs: 2, sweepIntervalMs: 50, logLevel: "warn" };
const procs: Proc[] = [];
const dirs: Array<{ remove(): void }> = [];
after(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  for (const d of dirs) d.remove();
});

function agentOptions(server: string, key: string, dir: string, extra: Record<string, unknown> = {}) {
  return {
    server,
    key,
    configPath: join(dir, "agent.json"),
    dataDir: join(dir, "data"),
    capacity: 4,
    reconnectBaseMs: 100,
    reconnectCapMs: 500,
    drainTimeoutSecs: 1,
    statusServer: false,
    metrics: false,
    logLevel: "info",
    ...extra,
  };
}

async function newAgent(server: string, key: string, extra: Record<string, unknown> = {}) {
  const dir = tempDir();
  dirs.push(dir);
  const a = await spawnAgent(agentOptions(server, key, dir.path, extra));
  procs.push(a);
  return a;
}

function completedOnce(job: Job): boolean {
  const successes = job.attempts.filter((a) => a.endedAt !== null && a.error === null);
  return job.status === "completed" && successes.length === 1 && successes[0]!.epoch === job.epoch;
}

test("kill -9 of the server under load: every acknowledged job completes exactly once", async () => {
  const dir = tempDir();
  dirs.push(dir);
  const port = await freePort();
  const opts = { ...SERVER, port, dataDir: dir.path };
  let server = await spawnServer(opts);
  procs.push(server);
  const api = new Api(server.url, server.bootstrap.clientKey);
  await newAgent(server.url, server.bootstrap.agentKey);
  await newAgent(server.url, server.bootstrap.agentKey);

  const acknowledged = new Map<string, number>();
  let n = 0;
  let stop = false;
  const submitter = async () => {
    while (!stop) {
      const i = n++;
      try {
        const job = await api.submit({ capability: "debug.sleep", payload: { ms: 30, i } });
        acknowledged.set(job.id, i);
      } catch {
        await sleep(20); // the server is down: nothing was acknowledged
      }
    }
  };
  const submitters = Array.from({ length: 8 }, submitter);
  while (acknowledged.size < 150) await sleep(10);
  server.kill("SIGKILL");
  await server.exited;
  await sleep(300);
  server = await spawnServer(opts);
  procs.push(server);
  while (acknowledged.size < 250) await sleep(10);
  stop = true;
  await Promise.all(submitters);

  for (const [id] of acknowledged) {
    const job = await api.waitTerminal(id, 60_000);
    assert.ok(completedOnce(job), `job ${id} did not complete exactly once: ${JSON.stringify(job)}`);
  }
});

test("kill -9 of an agent mid-job: the job is requeued after its lease and completed by another agent", async () => {
  const dir = tempDir();
  dirs.push(dir);
  const server = await spawnServer({ ...SERVER, port: 0, dataDir: dir.path });
  procs.push(server);
  const api = new Api(server.url, server.bootstrap.clientKey);
  const doomed = await newAgent(server.url, server.bootstrap.agentKey, { capacity: 1 });
  const job = await api.submit({ capability: "debug.sleep", payload: { ms: 2000 }, backoffMs: 100 });
  await api.waitFor(job.id, (j) => j.status === "running");
  doomed.kill("SIGKILL");
  const survivor = await newAgent(server.url, server.bootstrap.agentKey, { capacity: 1 });
  const done = await api.waitTerminal(job.id, 30_000);
  assert.ok(completedOnce(done), JSON.stringify(done));
  assert.equal(done.attempts[0]!.agentId, doomed.agentId);
  assert.equal(done.attempts[0]!.error?.category, "lease_expired");
  assert.equal(done.attempts.at(-1)!.agentId, survivor.agentId);
});

test("SIGSTOP of an agent past its lease: its late result is refused", async () => {
  const dir = tempDir();
  dirs.push(dir);
  const server = await spawnServer({ ...SERVER, port: 0, dataDir: dir.path });
  procs.push(server);
  const api = new Api(server.url, server.bootstrap.clientKey);
  const frozen = await newAgent(server.url, server.bootstrap.agentKey, { capacity: 1 });
  const job = await api.submit({ capability: "debug.sleep", payload: { ms: 1500 }, backoffMs: 100 });
  await api.waitFor(job.id, (j) => j.status === "running");
  frozen.kill("SIGSTOP");
  await api.waitFor(job.id, (j) => j.epoch === 2 || j.status !== "running", 20_000);
  const healthy = await newAgent(server.url, server.bootstrap.agentKey, { capacity: 1 });
  const done = await api.waitTerminal(job.id, 30_000);
  frozen.kill("SIGCONT");
  // The frozen agent wakes with a finished job whose lease is gone: the server must refuse it.
  await frozen.waitFor(/stale epoch|server dropped job/i, 20_000);
  const final = await api.get(job.id);
  assert.ok(completedOnce(final), JSON.stringify(final));
  assert.equal(final.attempts[0]!.agentId, frozen.agentId);
  assert.equal(final.attempts[0]!.error?.category, "lease_expired");
  assert.equal(final.attempts.at(-1)!.agentId, healthy.agentId);
  assert.deepEqual(final, done, "nothing changed after the late agent woke");
});
