import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type JobEvent, MqttJobMessage, mqttTopics, type ServerToClient, TOKENS_TEXT_MAX } from "@gantry/protocol";
import mqtt from "mqtt";
import WebSocket from "ws";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * `job:tokens` on the wire, with a bare agent: every client channel (SSE, the client WebSocket, MQTT)
 * gets each token message once, in order, with its text; bad or stale ones reach nobody.
 */
let t: TestServer;
before(async () => {
  t = await testServer(FAST);
});
after(() => t.close());

/** Reads an SSE stream to its end and returns the events. */
async function readSse(url: string, key: string): Promise<JobEvent[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text
    .split("\n\n")
    .map((block) => block.split("\n").find((l) => l.startsWith("data: ")))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice(6)) as JobEvent);
}

/** The client WebSocket's events for one job until its terminal status. */
async function readWs(jobId: string): Promise<{ ready: Promise<void>; events: Promise<JobEvent[]> }> {
  const ws = new WebSocket(`${t.server.url.replace("http", "ws")}/v1/events/ws?token=${t.server.bootstrap.clientKey}`);
  await new Promise((r) => ws.once("open", r));
  const got: JobEvent[] = [];
  let subscribed!: () => void;
  const ready = new Promise<void>((r) => (subscribed = r));
  const events = new Promise<JobEvent[]>((resolve) => {
    ws.on("message", (d: Buffer) => {
      const f = JSON.parse(d.toString()) as ServerToClient;
      if (f.type === "subscribed") subscribed();
      if (f.type !== "event") return;
      got.push(f.event);
      if (f.event.type === "status" && f.event.status === "completed") {
        ws.close();
        resolve(got);
      }
    });
  });
  ws.send(JSON.stringify({ type: "subscribe", jobIds: [jobId] }));
  return { ready, events };
}

const texts = (events: { type: string; text?: string; seq?: number }[]) =>
  events.filter((e) => e.type === "tokens").map((e) => [e.seq, e.text]);

test("token messages reach SSE, the client WebSocket and MQTT once each, in order, with their text", async () => {
  const a = await t.agent({ capabilities: ["tok.wire"] });
  await a.connect();
  const job = await t.api.submit({ capability: "tok.wire" });
  const sse = readSse(`${t.server.url}/v1/jobs/${job.id}/events`, t.server.bootstrap.clientKey);
  const ws = await readWs(job.id);
  await ws.ready;
  const client = await mqtt.connectAsync(`${t.server.url.replace("http", "ws")}/mqtt`, {
    username: "client",
    password: t.server.bootstrap.clientKey,
    reconnectPeriod: 0,
  });
  const mqttMsgs: MqttJobMessage[] = [];
  const mqttDone = new Promise<void>((resolve) =>
    client.on("message", (_topic, payload) => {
      const m = MqttJobMessage.parse(JSON.parse(payload.toString()));
      mqttMsgs.push(m);
      if (m.type === "status" && m.status === "completed") resolve();
    }),
  );
  await client.subscribeAsync(mqttTopics.job(job.id), { qos: 1 });
  const p = await a.nextJob();
  await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
  // Many messages in one frame (as an agent batches them) and then one by one: the order holds.
  const words = Array.from({ length: 40 }, (_, i) => `w${i} ✓ `);
  const frame = words.slice(0, 30).map((text, i) => ({
    type: "job:tokens" as const,
    ref: a.nextRef(),
    jobId: job.id,
    epoch: p.epoch,
    seq: i + 1,
    text,
  }));
  a.send(frame);
  for (const [i, text] of words.slice(30).entries()) {
    const r = await a.request({ type: "job:tokens", jobId: job.id, epoch: p.epoch, seq: 31 + i, text });
    assert.equal(r.type, "ack");
  }
  await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: { text: words.join("") } });
  const want = words.map((w, i) => [i + 1, w]);
  assert.deepEqual(texts(await sse), want, "SSE");
  assert.deepEqual(texts(await ws.events), want, "client WebSocket");
  await mqttDone;
  assert.deepEqual(texts(mqttMsgs), want, "MQTT");
  await client.endAsync();
});

test("an oversized token message is refused and reaches nobody; a stale epoch's tokens are fenced off", async () => {
  const a = await t.agent({ capabilities: ["tok.bad"] });
  await a.connect();
  const job = await t.api.submit({ capability: "tok.bad", maxAttempts: 3 });
  const sse = readSse(`${t.server.url}/v1/jobs/${job.id}/events`, t.server.bootstrap.clientKey);
  const p = await a.nextJob();
  await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
  const big = await a.request({
    type: "job:tokens",
    jobId: job.id,
    epoch: p.epoch,
    seq: 1,
    text: "x".repeat(TOKENS_TEXT_MAX + 1),
  });
  assert.equal(big.type === "nack" && big.error.code, "agent_protocol_error");
  const empty = await a.request({ type: "job:tokens", jobId: job.id, epoch: p.epoch, seq: 1, text: "" });
  assert.equal(empty.type, "nack");
  const stale = await a.request({ type: "job:tokens", jobId: job.id, epoch: p.epoch + 1, seq: 1, text: "no" });
  assert.equal(stale.type === "nack" && stale.error.code, "agent_lease_stale");
  const ok = await a.request({ type: "job:tokens", jobId: job.id, epoch: p.epoch, seq: 1, text: "yes" });
  assert.equal(ok.type, "ack");
  await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: { text: "yes" } });
  assert.deepEqual(texts(await sse), [[1, "yes"]]);
});
