import assert from "node:assert/strict";
import path from "node:path";
import { after, afterEach, test } from "node:test";
import { type Agent, type AgentOptions, startAgent } from "@gantry/agent";
import type { AgentToServer, AssignedJob } from "@gantry/protocol";
import { FakeAgentServer } from "./helpers/fake-agent-server.ts";
import { runFixture } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, testServer } from "./helpers/test-server.ts";

/**
 * The agent at the edges, against a fake server (real sockets) that pushes what a real server would
 * refuse or never send: deep payloads, nacks of every kind, silence instead of heartbeat acks.
 * Nothing asserts a timing; deadlines only stop a hang.
 */

const EDGE = new URL("./fixtures/edge-executor.ts", import.meta.url).href;
const dirs: Array<{ remove(): void }> = [];
let agent: Agent | undefined;
let fake: FakeAgentServer | undefined;
afterEach(async () => {
  await agent?.stop({ drainTimeoutMs: 0 }).catch(() => {});
  await fake?.close();
  agent = undefined;
  fake = undefined;
});
after(() => {
  for (const d of dirs) d.remove();
});

async function setup(
  extra: AgentOptions = {},
  configure: (f: FakeAgentServer) => void = () => {},
  maxPayload?: number,
) {
  fake = await new FakeAgentServer(maxPayload).listen();
  configure(fake);
  const d = tempDir("gantry-edges-");
  dirs.push(d);
  agent = await startAgent({
    server: fake.url,
    key: "gnt_a_test",
    configPath: path.join(d.path, "agent.json"),
    logLevel: "silent",
    print: () => {},
    metrics: false,
    statusServer: false,
    reconnectBaseMs: 50,
    reconnectCapMs: 200,
    executors: [EDGE],
    capacity: 1,
    ...extra,
  });
  await fake.next((m) => m.type === "hello");
  await until("connected", () => agent!.status().connection === "ready");
  return { fake, agent };
}

async function until(what: string, probe: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let seq = 0;
function job(capability: string, payload: unknown, epoch = 1): AssignedJob {
  const id = `01JEDGE${String(++seq).padStart(19, "0")}`;
  return {
    id,
    capability,
    payload,
    inputs: [],
    epoch,
    attempt: 1,
    runtimeSecs: null,
    leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
  };
}

const ended = (id: string) => (m: AgentToServer) =>
  "jobId" in m && m.jobId === id && ["job:completed", "job:failed", "job:cancelled"].includes(m.type);
type Failed = Extract<AgentToServer, { type: "job:failed" }>;

/** `{"a":{"a":…0…}}` as text: too deep for JSON.stringify here, as it is for the agent. */
const deepJson = (depth: number) => `${'{"a":'.repeat(depth)}0${"}".repeat(depth)}`;

test("payloads too deep to pass to an executor fail the job as fatal; the agent and its slot live on", async () => {
  const { fake } = await setup();
  for (const depth of [2000, 4100, 20_000]) {
    const j = job("debug.echo", "PAYLOAD");
    fake.sendRaw(JSON.stringify({ type: "job:assign", job: j }).replace('"PAYLOAD"', deepJson(depth)));
    const end = await fake.next<Failed>(ended(j.id));
    assert.equal(end.type, "job:failed", `depth ${depth}`);
    assert.equal(end.error.category, "fatal");
    assert.match(end.error.message, /nest/i);
  }
  const ok = job("debug.echo", { hello: "world" });
  fake.send({ type: "job:assign", job: ok });
  const done = await fake.next(ended(ok.id));
  assert.deepEqual(done, { ...done, type: "job:completed", output: { hello: "world" } });
});

test("outputs that cannot be serialised (BigInt, function, cycle, too deep, too large) are fatal failures", async () => {
  const { fake, agent } = await setup();
  for (const kind of ["bigint", "function", "cycle", "deep", "large"]) {
    const j = job("test.edge", { output: kind });
    fake.send({ type: "job:assign", job: j });
    const end = await fake.next<Failed>(ended(j.id));
    assert.equal(end.type, "job:failed", kind);
    assert.equal(end.error.category, "fatal", kind);
    assert.match(end.error.message, /output/i, kind);
  }
  const ok = job("test.edge", {});
  fake.send({ type: "job:assign", job: ok });
  assert.equal((await fake.next(ended(ok.id))).type, "job:completed");
  assert.equal(agent.status().jobs.length, 0);
});

test("retryable nacks (503 unavailable, 507 storage_full, 425) keep the result and send it again until acked", async () => {
  const refusals = [
    { status: 503, code: "unavailable" },
    { status: 507, code: "storage_full" },
    { status: 425, code: "too_early" },
  ];
  const { fake } = await setup({}, (f) => {
    f.reply = (m) => {
      if (m.type !== "job:completed") return undefined;
      const r = refusals.shift();
      return r
        ? [{ type: "nack", ref: m.ref, status: r.status, error: { code: r.code, message: "try later" } }]
        : undefined;
    };
  });
  const j = job("debug.echo", { n: 1 });
  fake.send({ type: "job:assign", job: j });
  const sent: AgentToServer[] = [];
  for (let i = 0; i < 4; i++) sent.push(await fake.next((m) => m.type === "job:completed" && m.jobId === j.id));
  assert.equal(new Set(sent.map((m) => ("ref" in m ? m.ref : -1))).size, 1, "the same message, resent");
  await until("outbox drained", () => agent!.status().outboxPending === 0);
  assert.equal(agent!.status().deadLetters, 0);
});

test("a message refused for good goes to the dead-letter list; a refused result becomes a fatal failure", async () => {
  const { fake, agent } = await setup({}, (f) => {
    f.reply = (m) => {
      if (m.type === "job:log" || (m.type === "job:completed" && (m.output as { refuse?: boolean })?.refuse))
        return [{ type: "nack", ref: m.ref, status: 400, error: { code: "agent_protocol_error", message: "no" } }];
      return undefined;
    };
  });
  const j = job("test.edge", { logLines: 1 });
  fake.send({ type: "job:assign", job: j });
  assert.equal((await fake.next(ended(j.id))).type, "job:completed");
  await until("log dead-lettered", () => agent.status().deadLetters === 1);
  const r = job("debug.echo", { refuse: true });
  fake.send({ type: "job:assign", job: r });
  assert.equal((await fake.next(ended(r.id))).type, "job:completed");
  const failed = await fake.next<Failed>(ended(r.id));
  assert.equal(failed.type, "job:failed");
  assert.equal(failed.error.category, "fatal");
  await until(
    "both dead-lettered, outbox empty",
    () => agent.status().deadLetters === 2 && agent.status().outboxPending === 0,
  );
});

test("oversized logs are split by bytes and truncated with a marker; later results are not stuck behind them", async () => {
  // A log budget above the 19 MiB sent (the default 4 MiB would drop most of it before the batcher).
  const { fake } = await setup({ maxLogBytes: 64 * 1024 * 1024 });
  // 300 lines of 64 KiB (one 19 MiB job:log before) and one line of 2 MiB.
  const j = job("test.edge", { logLines: 300, lineBytes: 65_536 });
  fake.send({ type: "job:assign", job: j });
  assert.equal((await fake.next(ended(j.id))).type, "job:completed");
  const k = job("test.edge", { logLines: 1, lineBytes: 2 * 1024 * 1024 });
  fake.send({ type: "job:assign", job: k });
  assert.equal((await fake.next(ended(k.id))).type, "job:completed");
  const logs = fake.received.filter((m) => m.type === "job:log");
  const lines = logs.filter((m) => m.jobId === j.id).flatMap((m) => m.lines);
  assert.equal(lines.length, 300);
  const long = logs.filter((m) => m.jobId === k.id).flatMap((m) => m.lines);
  assert.equal(long.length, 1);
  assert.ok(long[0]!.line.length <= 65_536);
  assert.match(long[0]!.line, /truncated/);
  for (const m of logs) assert.ok(Buffer.byteLength(JSON.stringify(m)) < 1024 * 1024);
});

test("a server that accepts smaller frames than assumed (closes 1009): the agent sends smaller ones", async () => {
  const { fake, agent } = await setup({}, () => {}, 1024 * 1024);
  const j = job("test.edge", { logLines: 40, lineBytes: 60_000 });
  fake.send({ type: "job:assign", job: j });
  assert.equal((await fake.next(ended(j.id))).type, "job:completed");
  const lines = fake.received.flatMap((m) => (m.type === "job:log" && m.jobId === j.id ? m.lines : []));
  assert.equal(new Set(lines.map((l) => l.line)).size, 40);
  await until("outbox drained", () => agent.status().outboxPending === 0);
  assert.equal(agent.status().deadLetters, 0);
});

test("heartbeats carry a seq; heartbeat:ack drop aborts the job and forgets its messages", async () => {
  const { fake, agent } = await setup();
  const j = job("test.edge", { sleepMs: 60_000 });
  fake.send({ type: "job:assign", job: j });
  await fake.next((m) => m.type === "job:started" && m.jobId === j.id);
  const hb = await fake.next<Extract<AgentToServer, { type: "heartbeat" }>>(
    (m) => m.type === "heartbeat" && m.running.some((r) => r.jobId === j.id),
  );
  assert.equal(typeof hb.seq, "number");
  fake.reply = (m) =>
    m.type === "heartbeat" ? [{ type: "heartbeat:ack", seq: m.seq, drop: [{ jobId: j.id, epoch: 1 }] }] : undefined;
  await until("job dropped", () => agent.status().jobs.length === 0 && agent.status().outboxPending === 0);
  fake.reply = () => undefined;
  await sleep(300);
  assert.ok(!fake.received.some(ended(j.id)), "no result for a dropped job");
});

test("a job whose lease lapsed without an answer is stopped by the agent, its result dropped", async () => {
  const { fake, agent } = await setup({}, (f) => {
    f.leaseSecs = 1;
  });
  const j = job("test.edge", { sleepMs: 60_000 });
  fake.send({ type: "job:assign", job: j });
  await fake.next((m) => m.type === "heartbeat" && m.running.some((r) => r.jobId === j.id));
  // The server goes silent (a stopped process would too): heartbeats get no answer.
  fake.ackHeartbeats = false;
  await until("job stopped", () => agent.status().jobs.length === 0 && agent.status().outboxPending === 0);
  assert.ok(!fake.received.some(ended(j.id)), "no result for a lapsed job");
});

test("a server that never sends heartbeat:ack does not make jobs lapse", async () => {
  const { fake } = await setup({}, (f) => {
    f.leaseSecs = 1;
    f.ackHeartbeats = false;
  });
  const j = job("test.edge", { sleepMs: 2500 });
  fake.send({ type: "job:assign", job: j });
  assert.equal((await fake.next(ended(j.id))).type, "job:completed");
});

test("a cancel that arrives after a reconnect aborts the job the agent still runs", async () => {
  const { fake } = await setup();
  const j = job("test.edge", { sleepMs: 60_000 });
  fake.send({ type: "job:assign", job: j });
  await fake.next((m) => m.type === "job:started" && m.jobId === j.id);
  fake.reply = (m) =>
    m.type === "hello"
      ? [
          {
            type: "welcome",
            protocolVersion: 1,
            agentId: "agent-1",
            heartbeatIntervalSecs: 0.2,
            leaseSecs: 5,
            drop: [],
          },
          { type: "job:cancel", jobId: j.id, epoch: 1 },
        ]
      : undefined;
  fake.cut();
  const hello = await fake.next<Extract<AgentToServer, { type: "hello" }>>((m) => m.type === "hello");
  assert.deepEqual(hello.running, [{ jobId: j.id, epoch: 1 }]);
  assert.equal((await fake.next(ended(j.id))).type, "job:cancelled");
});

test("long-poll against a real server: 2.4 MB of logs go in bodies under its 1 MiB limit; a result too large for a body fails the job", async () => {
  const t = await testServer({ heartbeatIntervalSecs: 0.5, leaseSecs: 5, sweepIntervalMs: 50, logLevel: "warn" });
  const d = tempDir("gantry-edges-");
  dirs.push(d);
  const a = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: path.join(d.path, "agent.json"),
    logLevel: "silent",
    print: () => {},
    metrics: false,
    statusServer: false,
    transport: "poll",
    pollWaitSecs: 1,
    reconnectBaseMs: 50,
    reconnectCapMs: 200,
    executors: [EDGE],
  });
  try {
    await until("connected", () => a.status().connection === "ready");
    const submitted = await t.api.submit({ capability: "test.edge", payload: { logLines: 40, lineBytes: 60_000 } });
    const done = await t.api.waitTerminal(submitted.id, 60_000);
    assert.equal(done.status, "completed");
    const logs = await t.api.call("GET", `/v1/jobs/${submitted.id}/logs?limit=1000`);
    assert.equal(logs.body.lines.length, 40);
    assert.equal(a.status().deadLetters, 0);
    const big = await t.api.submit({ capability: "test.edge", payload: { output: "poll-large" }, maxAttempts: 1 });
    const failed = await t.api.waitTerminal(big.id, 60_000);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error?.category, "fatal");
    assert.match(failed.error?.message ?? "", /could not be delivered/);
    assert.equal(a.status().deadLetters, 1);
  } finally {
    await a.stop({ drainTimeoutMs: 0 });
    await t.close();
  }
});

test("a server stopped with SIGSTOP: the agent stops the job whose lease lapsed, and its slot is free", async () => {
  const j = job("test.edge", { sleepMs: 120_000 });
  const proc = runFixture("fake-server-main.ts", { leaseSecs: 1, job: j });
  const d = tempDir("gantry-edges-");
  dirs.push(d);
  let a: Agent | undefined;
  try {
    const url = (await proc.waitFor(/FAKE (\S+)\n/))[1]!;
    a = await startAgent({
      server: url,
      key: "gnt_a_test",
      configPath: path.join(d.path, "agent.json"),
      logLevel: "silent",
      print: () => {},
      metrics: false,
      statusServer: false,
      reconnectBaseMs: 50,
      reconnectCapMs: 200,
      executors: [EDGE],
    });
    const agentNow = a;
    await until("job running", () => agentNow.status().jobs.some((x) => x.id === j.id));
    // The agent has seen this server renew the job's lease (so silence now means a lapse).
    await proc.waitFor(/ACKED\n/);
    proc.kill("SIGSTOP");
    await until("job stopped by the agent", () => agentNow.status().jobs.length === 0);
    assert.equal(agentNow.status().outboxPending, 0, "its pending messages were dropped");
  } finally {
    proc.kill("SIGCONT");
    proc.kill("SIGKILL");
    await proc.exited;
    await a?.stop({ drainTimeoutMs: 0 });
  }
});
