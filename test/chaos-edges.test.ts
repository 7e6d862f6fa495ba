import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Job } from "@gantry/protocol";
import { Api } from "./helpers/api.ts";
import { type Proc, spawnAgent, spawnServer } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";

/**
 * The edges of issue "Harden the core", run back to back on one server and two real agents, then the
 * invariants: every acknowledged job ends, none ran twice at once, and no agent slot leaked.
 */

const EDGE = new URL("./fixtures/edge-executor.ts", import.meta.url).href;
const procs: Proc[] = [];
const dirs: Array<{ path: string; remove(): void }> = [];
after(async () => {
  for (const p of procs) p.kill("SIGKILL");
  for (const p of procs) p.kill("SIGCONT");
  await Promise.all(procs.map((p) => p.exited));
  for (const d of dirs) d.remove();
});

function dir() {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

async function agent(server: string, key: string, path: string, capacity: number) {
  const a = await spawnAgent({
    server,
    key,
    configPath: join(path, "agent.json"),
    dataDir: join(path, "data"),
    capacity,
    executors: [EDGE],
    reconnectBaseMs: 100,
    reconnectCapMs: 500,
    drainTimeoutSecs: 1,
    statusServer: false,
    metrics: false,
    logLevel: "info",
  });
  procs.push(a);
  return a;
}

function nested(depth: number): string {
  return `${"[".repeat(depth)}1${"]".repeat(depth)}`;
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

test("edges back to back, then: every acked job terminal, none ran twice at once, no slot leaked", async () => {
  const server = await spawnServer({
    port: 0,
    dataDir: dir(),
    heartbeatIntervalSecs: 1,
    leaseSecs: 3,
    sweepIntervalMs: 50,
    logLevel: "warn",
  });
  procs.push(server);
  const api = new Api(server.url, server.bootstrap.clientKey);
  const acked: string[] = [];
  const submit = async (body: Record<string, unknown>) => {
    const job = await api.submit({ backoffMs: 100, ...body });
    acked.push(job.id);
    return job;
  };
  const dirA = dir();
  let a = await agent(server.url, server.bootstrap.agentKey, dirA, 1);

  // 1. A running job whose agent died while the server was stopped, the agent back on the same identity.
  const long = await submit({ capability: "debug.sleep", payload: { ms: 6000 } });
  await api.waitFor(long.id, (j) => j.status === "running");
  server.kill("SIGSTOP");
  await sleep(1500);
  a.kill("SIGKILL");
  await a.exited;
  server.kill("SIGCONT");
  a = await agent(server.url, server.bootstrap.agentKey, dirA, 1);
  assert.ok(TERMINAL.has((await api.waitTerminal(long.id, 60_000)).status));

  // 2. A cancel requested while the agent is frozen and cut off.
  const cancelled = await submit({ capability: "debug.sleep", payload: { ms: 30_000 } });
  await api.waitFor(cancelled.id, (j) => j.status === "running");
  a.kill("SIGSTOP");
  const c = await api.call("POST", `/v1/jobs/${cancelled.id}/cancel`);
  assert.ok(c.status < 300, JSON.stringify(c.body));
  await sleep(1000);
  a.kill("SIGCONT");
  assert.equal((await api.waitTerminal(cancelled.id, 60_000)).status, "cancelled");

  // 3. Payloads nested deeper than anything can carry are refused at the door, never a 500.
  for (const depth of [2000, 5000, 100_000]) {
    const r = await api.call("POST", "/v1/jobs", undefined, `{"capability":"debug.echo","payload":${nested(depth)}}`);
    assert.equal(r.status, 400, `depth ${depth}: ${JSON.stringify(r.body).slice(0, 300)}`);
    assert.equal(r.body.error.code, "payload_too_deep");
  }

  // 4. Outputs and logs the agent cannot carry end the job cleanly; the agent lives on.
  const b = await agent(server.url, server.bootstrap.agentKey, dir(), 2);
  for (const output of ["bigint", "function", "cycle", "deep", "large"]) {
    const job = await submit({ capability: "test.edge", payload: { output } });
    const done = await api.waitTerminal(job.id, 60_000);
    assert.equal(done.status, "failed", `${output}: ${JSON.stringify(done).slice(0, 500)}`);
    assert.equal(done.attempts.at(-1)?.error?.category, "fatal", output);
  }
  for (const payload of [
    { logLines: 1, lineBytes: 20 * 1024 * 1024 },
    { logLines: 50_000, lineBytes: 200 },
  ]) {
    const job = await submit({ capability: "test.edge", payload });
    assert.equal((await api.waitTerminal(job.id, 120_000)).status, "completed", JSON.stringify(payload));
  }

  // 5. A burst, with one agent killed mid-way and restarted.
  const burst = await Promise.all(
    Array.from({ length: 40 }, (_, i) => submit({ capability: "debug.sleep", payload: { ms: 100, i } })),
  );
  await api.waitFor(burst[5]!.id, (j) => j.status !== "queued");
  b.kill("SIGKILL");
  await agent(server.url, server.bootstrap.agentKey, dir(), 2);

  // The invariants.
  for (const id of acked) {
    const job = await api.waitTerminal(id, 90_000);
    const attempts = [...job.attempts].sort((x, y) => x.startedAt.localeCompare(y.startedAt));
    for (let i = 1; i < attempts.length; i++) {
      const prev = attempts[i - 1]!;
      assert.ok(prev.endedAt !== null && prev.endedAt <= attempts[i]!.startedAt, `overlapping attempts: ${id}`);
    }
    const succeeded = attempts.filter((x) => x.endedAt !== null && x.error === null);
    assert.ok(succeeded.length <= 1, `ran to completion twice: ${JSON.stringify(job)}`);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await api.call("GET", "/v1/agents");
    const online = (
      r.body.agents as Array<{ id: string; online: boolean; status: string; runningJobs: string[] }>
    ).filter((x) => x.online);
    const busy = online.filter((x) => x.runningJobs.length > 0 || x.status !== "idle");
    if (online.length >= 2 && busy.length === 0) break;
    if (Date.now() > deadline) assert.fail(`agents still hold slots: ${JSON.stringify(busy)}`);
    await sleep(200);
  }
  assert.ok(acked.length > 40);
  const final = await Promise.all(acked.map((id) => api.get(id)));
  assert.ok(final.every((j: Job) => TERMINAL.has(j.status)));
});
