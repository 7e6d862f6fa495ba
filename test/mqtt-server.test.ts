import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import { after, before, test } from "node:test";
import { type MqttAgentPresence, type MqttCapabilities, MqttJobMessage, mqttTopics } from "@gantry/protocol";
import mqtt, { type MqttClient } from "mqtt";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
before(async () => {
  t = await testServer({ ...FAST, mqttPort: 0, noAuth: true, presenceIntervalMs: 50 });
});
after(() => t.close());

const wsUrl = () => `${t.server.url.replace("http", "ws")}/mqtt`;
const tcpUrl = () => `mqtt://127.0.0.1:${t.server.mqtt.tcpPort}`;

/** Collects messages per topic; `until` resolves once a predicate over one topic's messages holds. */
function collect(client: MqttClient) {
  const byTopic = new Map<string, string[]>();
  const waiters: (() => void)[] = [];
  client.on("message", (topic, payload) => {
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), payload.toString()]);
    for (const w of [...waiters]) w();
  });
  return {
    of: (topic: string) => byTopic.get(topic) ?? [],
    until: (topic: string, pred: (msgs: string[]) => boolean) =>
      new Promise<string[]>((resolve) => {
        const check = () => {
          const msgs = byTopic.get(topic) ?? [];
          if (pred(msgs)) {
            waiters.splice(waiters.indexOf(check), 1);
            resolve(msgs);
          }
        };
        waiters.push(check);
        check();
      }),
  };
}

const jobMessages = (msgs: string[]) => msgs.map((m) => MqttJobMessage.parse(JSON.parse(m)));
const isEnd = (msgs: string[]) => jobMessages(msgs).some((m) => m.type === "status" && m.status === "completed");

for (const transport of ["ws", "tcp"] as const) {
  test(`embedded broker over ${transport}: a job's status, progress, log count and output arrive in order, QoS 1`, async () => {
    const client = await mqtt.connectAsync(transport === "ws" ? wsUrl() : tcpUrl(), {
      password: t.server.bootstrap.clientKey,
      username: "client",
      reconnectPeriod: 0,
    });
    const seen = collect(client);
    const a = await t.agent({ capabilities: [`mq.${transport}`] });
    await a.connect();
    const job = await t.api.submit({ capability: `mq.${transport}` });
    const granted = await client.subscribeAsync(mqttTopics.job(job.id), { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    const p = await a.nextJob();
    await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
    await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 40, stage: "s" } });
    await a.request({ type: "job:log", jobId: job.id, epoch: p.epoch, lines: [{ stream: "stdout", line: "x" }] });
    await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: { ok: 1 } });
    const msgs = jobMessages(await seen.until(mqttTopics.job(job.id), isEnd));
    const kinds = msgs.map((m) => (m.type === "status" ? m.status : m.type));
    assert.deepEqual(
      kinds.filter((k) => k !== "assigned"),
      ["running", "progress", "log", "output", "completed"],
    );
    const log = msgs.find((m) => m.type === "log");
    assert.equal(log?.type === "log" && log.seq, 1);
    assert.ok(!JSON.stringify(msgs).includes('"line"'), "log lines are not carried, only their number");
    await client.endAsync();
  });
}

test("a subscriber to a job that already finished gets its terminal status at once", async () => {
  const job = await t.api.submit({ capability: "mq.late" });
  await t.api.call("POST", `/v1/jobs/${job.id}/cancel`);
  const client = await mqtt.connectAsync(wsUrl(), {
    username: "gantry",
    password: t.server.bootstrap.clientKey,
    reconnectPeriod: 0,
  });
  const seen = collect(client);
  await client.subscribeAsync(mqttTopics.job(job.id), { qos: 1 });
  const [m] = jobMessages(await seen.until(mqttTopics.job(job.id), (x) => x.length > 0));
  assert.equal(m?.type === "status" && m.status, "cancelled");
  await client.endAsync();
});

test("ACL: client B (anonymous) cannot subscribe to client A's job, nor to job wildcards; A can", async () => {
  const job = await t.api.submit({ capability: "mq.acl" });
  const b = await mqtt.connectAsync(wsUrl(), { reconnectPeriod: 0 });
  for (const topic of [mqttTopics.job(job.id), "gantry/jobs/+", "gantry/#", "other/topic"]) {
    await assert.rejects(b.subscribeAsync(topic, { qos: 1 }), /Subscribe error/, `SUBACK failure for ${topic}`);
  }
  // B's own job is allowed.
  const own = await fetch(`${t.server.url}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ capability: "mq.acl" }),
  });
  const ownJob = (await own.json()) as { id: string };
  const ok = await b.subscribeAsync(mqttTopics.job(ownJob.id), { qos: 1 });
  assert.equal(ok[0]?.qos, 1);
  await b.endAsync();
});

test("a wrong credential is refused at CONNECT; clients may not publish", async () => {
  await assert.rejects(
    mqtt.connectAsync(wsUrl(), { username: "gantry", password: "gnt_c_not-a-key", reconnectPeriod: 0 }),
    /Bad username or password|Not authorized|bad/i,
  );
  const c = await mqtt.connectAsync(tcpUrl(), {
    username: "gantry",
    password: t.server.bootstrap.clientKey,
    reconnectPeriod: 0,
  });
  const closed = new Promise<void>((r) => c.once("close", () => r()));
  c.publish(mqttTopics.capabilities, "forged", { qos: 1 });
  await closed;
  c.end(true);
});

test("agent presence is retained while the agent is connected and cleared when it leaves; capabilities retained", async () => {
  const a = await t.agent({ capabilities: ["mq.presence[gpu;vram:24]"], capacity: 2 });
  await a.connect();
  const c = await mqtt.connectAsync(wsUrl(), {
    username: "gantry",
    password: t.server.bootstrap.clientKey,
    reconnectPeriod: 0,
  });
  const seen = collect(c);
  await c.subscribeAsync([mqttTopics.agent("+"), mqttTopics.capabilities], { qos: 1 });
  const topic = mqttTopics.agent(a.agentId);
  const [present] = await seen.until(topic, (m) => m.length > 0);
  const p = JSON.parse(present!) as MqttAgentPresence;
  assert.equal(p.online, true);
  assert.deepEqual(p.capabilities, ["mq.presence"]);
  const caps = await seen.until(mqttTopics.capabilities, (m) =>
    m.some((x) => (JSON.parse(x) as MqttCapabilities).capabilities.some((c) => c.name === "mq.presence")),
  );
  const summary = (JSON.parse(caps.at(-1)!) as MqttCapabilities).capabilities.find((x) => x.name === "mq.presence");
  assert.deepEqual(summary?.attributes, { gpu: true, vram: "24" });
  await a.close();
  await seen.until(topic, (m) => m.at(-1) === "");
  await c.endAsync();
  // A new subscriber finds no retained presence for it.
  const d = await mqtt.connectAsync(wsUrl(), {
    username: "gantry",
    password: t.server.bootstrap.clientKey,
    reconnectPeriod: 0,
  });
  const seenD = collect(d);
  await d.subscribeAsync([topic, mqttTopics.capabilities], { qos: 1 });
  await seenD.until(mqttTopics.capabilities, (m) => m.length > 0);
  assert.deepEqual(seenD.of(topic), []);
  await d.endAsync();
});

test("an oversized MQTT packet closes the connection before its body is read", async () => {
  const sock = tcpConnect(t.server.mqtt.tcpPort!, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  const closed = new Promise((r) => sock.once("close", r));
  sock.on("error", () => {});
  // CONNECT announcing 1 MiB of remaining length (varint 0x80 0x80 0x40), then a little of it.
  sock.write(Buffer.from([0x10, 0x80, 0x80, 0x40, 0, 4, 0x4d, 0x51, 0x54, 0x54]));
  await closed;
  assert.ok(sock.destroyed);
});

test("GET /v1/capabilities: online agents, free slots, queued jobs and attributes", async () => {
  const a = await t.agent({ capabilities: ["mq.caps[cuda12]"], capacity: 3 });
  await a.connect();
  await t.api.submit({ capability: "mq.nobody" });
  const r = await t.api.call("GET", "/v1/capabilities");
  assert.equal(r.status, 200);
  const byName = new Map(r.body.capabilities.map((c: { name: string }) => [c.name, c]));
  assert.deepEqual(byName.get("mq.caps"), {
    name: "mq.caps",
    agents: 1,
    freeSlots: 3,
    queued: 0,
    attributes: { cuda12: true },
  });
  assert.deepEqual(byName.get("mq.nobody"), { name: "mq.nobody", agents: 0, freeSlots: 0, queued: 1, attributes: {} });
  await a.close();
});
