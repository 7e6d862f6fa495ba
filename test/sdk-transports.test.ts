import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server } from "node:http";
import { after, before, test } from "node:test";
import {
  type EventsTransport,
  GantryClient,
  JobFailedError,
  JobNotFoundError,
  WorkerUnavailableError,
} from "@gantry/client";
import type { Job, JobProgress } from "@gantry/protocol";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
let mosq: TestServer;
before(async () => {
  t = await testServer({ ...FAST, mqttPort: 0 });
  mosq = await testServer({ ...FAST, mqttUrl: "mqtt://127.0.0.1:1883" });
});
after(async () => {
  await t.close();
  await mosq.close();
});

/** Runs one job through a raw agent: started, progress 30 then 60, then completed (or failed). */
async function runJob(s: TestServer, capability: string, jobId: string, end: "completed" | "failed" = "completed") {
  const a = await s.agent({ capabilities: [capability] });
  await a.connect();
  const p = await a.nextJob();
  assert.equal(p.id, jobId);
  await a.request({ type: "job:started", jobId, epoch: p.epoch });
  await a.request({ type: "job:progress", jobId, epoch: p.epoch, progress: { percent: 30 } });
  await a.request({ type: "job:progress", jobId, epoch: p.epoch, progress: { percent: 60, stage: "embed" } });
  if (end === "completed") await a.request({ type: "job:completed", jobId, epoch: p.epoch, output: { dim: 512 } });
  else await a.request({ type: "job:failed", jobId, epoch: p.epoch, error: { category: "fatal", message: "boom" } });
  await a.close();
}

/** Follows a job with callbacks; resolves with what they saw once onComplete has fired (and a moment more). */
function follow(client: GantryClient, id: string) {
  const progress: number[] = [];
  const completes: Job[] = [];
  const done = new Promise<void>((resolve, reject) => {
    client.subscribeJobUpdates(id, {
      onProgress: (p: JobProgress) => {
        progress.push(p.percent);
      },
      onComplete: (job) => {
        completes.push(job);
        resolve();
      },
      onError: reject,
    });
  });
  return { progress, completes, done };
}

/** The id of the one queued job of a capability, once its submit has landed. */
async function queuedId(client: GantryClient, capability: string): Promise<string> {
  for (;;) {
    const { jobs } = await client.list({ capability, status: "queued" });
    if (jobs[0]) return jobs[0].id;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cases: {
  name: string;
  server: () => TestServer;
  opts: () => ConstructorParameters<typeof GantryClient>[0];
  expect: EventsTransport;
}[] = [
  { name: "embedded MQTT over WebSocket", server: () => t, opts: () => ({}), expect: "mqtt" },
  {
    name: "embedded MQTT/TCP",
    server: () => t,
    opts: () => ({ mqttUrl: `mqtt://127.0.0.1:${t.server.mqtt.tcpPort}` }),
    expect: "mqtt",
  },
  {
    name: "Mosquitto via --mqtt-url",
    server: () => mosq,
    opts: () => ({ mqttUrl: "mqtt://127.0.0.1:1883" }),
    expect: "mqtt",
  },
  { name: "the client WebSocket", server: () => t, opts: () => ({ events: "ws" }), expect: "ws" },
  { name: "polling", server: () => t, opts: () => ({ events: "poll" }), expect: "poll" },
];

for (const c of cases) {
  test(`SDK over ${c.name}: progress in order, onComplete once with the full job`, async () => {
    const s = c.server();
    const client = new GantryClient({ url: s.server.url, apiKey: s.server.bootstrap.clientKey, ...c.opts() });
    const cap = `sdk.${c.expect}.${Math.random().toString(36).slice(2, 8)}`;
    const job = await client.submit(cap, { image: "x" });
    const seen = follow(client, job.id);
    assert.equal(await client.connectEvents(), c.expect);
    // Let the subscription settle before the job moves, so live events (not only the snapshot) are seen.
    await new Promise((r) => setTimeout(r, 200));
    await runJob(s, cap, job.id);
    await seen.done;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.completes.length, 1);
    assert.equal(seen.completes[0]?.status, "completed");
    assert.deepEqual(seen.completes[0]?.output, { dim: 512 });
    if (c.expect !== "poll") assert.deepEqual(seen.progress, [30, 60]);
    else
      assert.deepEqual(
        seen.progress,
        [...seen.progress].sort((a, b) => a - b),
        "polled progress only rises",
      );
    assert.equal(client.eventsTransport, c.expect);
    client.close();
  });
}

test("a job that ended before the subscription gets onComplete exactly once, on every transport", async () => {
  for (const events of ["mqtt", "ws", "poll"] as const) {
    const client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey, events });
    const job = await client.submit("sdk.ended", {});
    await client.cancel(job.id);
    const seen = follow(client, job.id);
    await seen.done;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.completes.length, 1, events);
    assert.equal(seen.completes[0]?.status, "cancelled");
    client.close();
  }
});

test("submit(cap, payload, {wait}) resolves with the finished job, or throws JobFailedError carrying it", async () => {
  const client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey });
  const okJob = client.submit("sdk.wait", { a: 1 }, { wait: true, timeout: 20_000 });
  await runJob(t, "sdk.wait", await queuedId(client, "sdk.wait"));
  assert.equal((await okJob).status, "completed");
  const bad = client.submit("sdk.fail", {}, { wait: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  await runJob(t, "sdk.fail", await queuedId(client, "sdk.fail"), "failed");
  const err = await bad;
  assert.ok(err instanceof JobFailedError);
  assert.equal(err.job.status, "failed");
  client.close();
});

test("following an unknown job reports JobNotFoundError through onError", async () => {
  const client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey, events: "ws" });
  const err = await new Promise<Error>((resolve) => {
    client.subscribeJobUpdates("01ARZ3NDEKTSV4RRFFQ69G5FAV", {
      onError: resolve,
      onComplete: () => resolve(new Error("no")),
    });
  });
  assert.ok(err instanceof JobNotFoundError || /not found/.test(err.message), String(err));
  client.close();
});

test("fallback: no broker at /mqtt → the client WebSocket; a proxy that refuses upgrades → polling", async () => {
  const noMqtt = await testServer({ ...FAST, mqtt: false });
  const skipped: string[] = [];
  const c1 = new GantryClient({
    url: noMqtt.server.url,
    apiKey: noMqtt.server.bootstrap.clientKey,
    onTransport: (_t, s) => skipped.push(...s.map((x) => x.transport)),
  });
  assert.equal(await c1.connectEvents(), "ws");
  assert.deepEqual(skipped, ["mqtt"]);
  c1.close();

  // A plain HTTP proxy in front of the server that passes requests but drops every upgrade.
  const target = new URL(noMqtt.server.url);
  const proxy: Server = createServer((req, res) => {
    const up = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  proxy.on("upgrade", (_req, socket) => socket.destroy());
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  const port = (proxy.address() as { port: number }).port;
  const c2 = new GantryClient({ url: `http://127.0.0.1:${port}`, apiKey: noMqtt.server.bootstrap.clientKey });
  assert.equal(await c2.connectEvents(), "poll");
  const job = await c2.submit("sdk.proxied", {});
  const seen = follow(c2, job.id);
  await runJob(noMqtt, "sdk.proxied", job.id);
  await seen.done;
  assert.equal(seen.completes.length, 1);
  c2.close();
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await noMqtt.close();
});

test("waitForWorkers resolves once an agent serves the capability, and rejects with WorkerUnavailableError when none does", async () => {
  const client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey });
  await assert.rejects(client.waitForWorkers(["clip_embedding_none"], { timeout: 300 }), WorkerUnavailableError);
  const waiting = client.waitForWorkers(["clip_embedding"], { timeout: 20_000 });
  const a = await t.agent({ capabilities: ["clip_embedding[gpu]"], capacity: 2 });
  await a.connect();
  const [summary] = await waiting;
  assert.equal(summary?.agents, 1);
  assert.equal(summary?.freeSlots, 2);
  await assert.rejects(client.waitForWorkers(["clip_embedding"], { timeout: 300, count: 2 }), WorkerUnavailableError);
  await a.close();
});

test("no-auth mode: the SDK works with no key, over MQTT", async () => {
  const open = await testServer({ ...FAST, noAuth: true });
  const client = new GantryClient({ url: open.server.url });
  const job = await client.submit("sdk.open", {});
  const seen = follow(client, job.id);
  assert.equal(await client.connectEvents(), "mqtt");
  await runJob(open, "sdk.open", job.id);
  await seen.done;
  assert.equal(seen.completes[0]?.status, "completed");
  client.close();
  await open.close();
});
