/**
 * Two replicas on one PostgreSQL answer for the whole cluster: an agent connected to one replica is
 * counted (agents, free slots, attributes) by the other's GET /v1/capabilities, by an SDK client's
 * waitForWorkers pointed at it, and in the retained `gantry/capabilities` summary on the external
 * broker both share (the machine's Mosquitto), published once per change, not once per replica; and
 * it leaves all three when it stops. Other runs may publish their own summary to that broker: this
 * deployment's are told apart by a queued job of a capability only this test uses.
 */
import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { after, before, test } from "node:test";
import { GantryClient, WorkerUnavailableError } from "@gantry/client";
import { type CapabilitySummary, type MqttCapabilities, mqttTopics } from "@gantry/protocol";
import { type GantryServer, startServer } from "@gantry/server";
import mqtt from "mqtt";
import { Api } from "./helpers/api.ts";
import { RawAgent } from "./helpers/raw-agent.ts";
import { deployment, postgresReachable, startReplicas } from "./helpers/replicas.ts";
import { FAST, sleep } from "./helpers/test-server.ts";

const MOSQUITTO = "mqtt://127.0.0.1:1883";

async function mosquittoReachable(): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port: 1883 }, () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
  if (!ok) console.log(`# SKIP the cluster capability test: no broker at ${MOSQUITTO}`);
  return ok;
}

const pgUp = await postgresReachable();
const mqttUp = pgUp && (await mosquittoReachable());
const d = deployment();
let servers: GantryServer[] = [];

before(async () => {
  if (!mqttUp) return;
  servers = await startReplicas(d, 2, { ...FAST, mqttUrl: MOSQUITTO, presenceIntervalMs: 50 });
});
after(async () => {
  for (const s of servers) await s.close();
  if (pgUp) await d.drop();
});

/** Polls until `pred` holds for what `read` returns (replicas see each other through the store). */
async function until<T>(read: () => Promise<T>, pred: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  let last: T = await read();
  while (!pred(last)) {
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(last)}`);
    await sleep(50);
    last = await read();
  }
  return last;
}

test("an agent on one replica is counted by the other's capabilities, waitForWorkers and MQTT summary, until it stops", {
  skip: !mqttUp,
}, async () => {
  const [r0, r1] = servers;
  const key = r0!.bootstrap.clientKey;
  const cap = `caps.x${Math.random().toString(36).slice(2, 8)}`;
  const idle = `${cap}.idle`;
  const api0 = new Api(r0!.url, key);
  // A queued job for a capability nobody serves is counted too (from the job counters), and marks
  // this deployment's summaries on the shared broker.
  await api0.submit({ capability: idle, payload: {} });
  const summaries: MqttCapabilities[] = [];
  const sub = await mqtt.connectAsync(MOSQUITTO, { reconnectPeriod: 0 });
  sub.on("message", (topic, payload) => {
    if (topic !== mqttTopics.capabilities || payload.length === 0) return;
    const m = JSON.parse(payload.toString()) as MqttCapabilities;
    if (m.capabilities.some((c) => c.name === idle && c.queued === 1)) summaries.push(m);
  });
  await sub.subscribeAsync(mqttTopics.capabilities, { qos: 1 });
  const inSummary = async () => summaries.at(-1)?.capabilities.find((c) => c.name === cap);

  // The agent is on r1; r0 answers (and, lowest id, is the one publishing the summary).
  const agent = await RawAgent.enrol(r1!.url, r1!.bootstrap.agentKey, {
    capabilities: [`${cap}[gpu;vram:80]`],
    capacity: 3,
  });
  await agent.connect();
  agent.startHeartbeats(100);
  const client = new GantryClient({ url: r0!.url, apiKey: key });
  const [viaSdk] = await client.waitForWorkers([cap], { timeout: 15_000 });
  assert.equal(viaSdk?.agents, 1);
  assert.equal(viaSdk?.freeSlots, 3);
  assert.deepEqual(viaSdk?.attributes, { gpu: true, vram: "80" });

  const onR0 = async (): Promise<CapabilitySummary | undefined> => {
    const res = await api0.call("GET", `/v1/capabilities?name=${cap},${idle}`);
    assert.equal(res.status, 200);
    return (res.body as { capabilities: CapabilitySummary[] }).capabilities.find((c) => c.name === cap);
  };
  await until(
    () => api0.call("GET", `/v1/capabilities?name=${idle}`),
    (r) => (r.body as { capabilities: CapabilitySummary[] }).capabilities[0]?.queued === 1,
    "queued job on r0",
  );

  // A job held by the agent on r1 takes one of its slots in r0's answer (capacity minus held jobs).
  const job = await new Api(r1!.url, r1!.bootstrap.clientKey).submit({ capability: cap, payload: {} });
  const assigned = await agent.nextJob();
  assert.equal(assigned.id, job.id);
  await agent.request({ type: "job:started", jobId: job.id, epoch: assigned.epoch });
  await until(onR0, (c) => c?.freeSlots === 2, "one slot taken, as r0 sees it");
  await until(inSummary, (c) => c?.agents === 1 && c.freeSlots === 2, "summary with one slot taken");
  await agent.request({ type: "job:completed", jobId: job.id, epoch: assigned.epoch, output: {} });
  await until(onR0, (c) => c?.freeSlots === 3, "the slot back, as r0 sees it");
  await until(inSummary, (c) => c?.freeSlots === 3, "summary with the slot back");

  // The agent stops: it leaves r0's answer, the SDK's view through r0, and the summary.
  await agent.close();
  await until(onR0, (c) => c === undefined, "agent gone from r0's answer");
  await assert.rejects(client.waitForWorkers([cap], { timeout: 300 }), WorkerUnavailableError);
  await until(inSummary, (c) => c === undefined, "summary without the agent");

  // One publisher for the cluster: every summary differs from the one before it (two replicas
  // publishing the same change would repeat it).
  const bodies = summaries.map((m) => JSON.stringify({ ...m, at: undefined }));
  for (let i = 1; i < bodies.length; i++)
    assert.notEqual(bodies[i], bodies[i - 1], `summary ${i} repeats the one before`);
  await sub.endAsync();
});

test("a replica's embedded broker carries the cluster summary: an agent on another replica comes and goes in it", {
  skip: !mqttUp,
}, async () => {
  const [r0] = servers;
  // A third replica of the same deployment with its own embedded broker (no --mqtt-url).
  const r2 = await startServer({
    port: 0,
    ...FAST,
    presenceIntervalMs: 50,
    db: d.db,
    dataDir: d.dataDir,
    replicaId: "r2",
  });
  servers.push(r2);
  const cap = `caps.e${Math.random().toString(36).slice(2, 8)}`;
  let latest: MqttCapabilities | undefined;
  const sub = await mqtt.connectAsync(`${r2.url.replace("http", "ws")}/mqtt`, {
    username: "gantry",
    password: r2.bootstrap.clientKey,
    reconnectPeriod: 0,
  });
  sub.on("message", (topic, payload) => {
    if (topic === mqttTopics.capabilities) latest = JSON.parse(payload.toString()) as MqttCapabilities;
  });
  await sub.subscribeAsync(mqttTopics.capabilities, { qos: 1 });
  const inSummary = async () => latest?.capabilities.find((c) => c.name === cap);
  const agent = await RawAgent.enrol(r0!.url, r0!.bootstrap.agentKey, { capabilities: [cap], capacity: 2 });
  await agent.connect();
  agent.startHeartbeats(100);
  await until(inSummary, (c) => c?.agents === 1 && c.freeSlots === 2, "agent on r0 in r2's embedded summary");
  await agent.close();
  await until(inSummary, (c) => c === undefined, "agent gone from r2's embedded summary");
  await sub.endAsync();
});
