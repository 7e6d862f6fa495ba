/**
 * Two replicas on one PostgreSQL sharing the machine's Mosquitto (`--mqtt-url`): a job's events reach
 * an MQTT subscriber once per cluster, not once per replica; and an agent connected to one replica is
 * shown fresh (load, metrics, loaded models from its recorded heartbeats) by the other.
 */
import assert from "node:assert/strict";
import { createConnection } from "node:net";
import { after, before, test } from "node:test";
import { type AgentView, type MqttJobMessage, mqttTopics } from "@gantry/protocol";
import type { GantryServer } from "@gantry/server";
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
  if (!ok) console.log(`# SKIP the MQTT replica test: no broker at ${MOSQUITTO}`);
  return ok;
}

const pgUp = await postgresReachable();
const mqttUp = pgUp && (await mosquittoReachable());
const d = deployment();
let servers: GantryServer[] = [];
const agents: RawAgent[] = [];

before(async () => {
  if (!pgUp) return;
  servers = await startReplicas(d, 2, { ...FAST, ...(mqttUp ? { mqttUrl: MOSQUITTO } : {}) });
});
after(async () => {
  for (const a of agents) await a.close();
  for (const s of servers) await s.close();
  if (pgUp) await d.drop();
});

/** A raw agent enrolled and connected through one replica. */
async function agentOn(server: GantryServer, capabilities: string[]): Promise<RawAgent> {
  const a = await RawAgent.enrol(server.url, server.bootstrap.agentKey, { capabilities });
  agents.push(a);
  await a.connect();
  return a;
}

test("an external broker shared by two replicas gets each event of a job once, and its terminal state", {
  skip: !mqttUp,
}, async () => {
  const [r0, r1] = servers;
  const key = r0!.bootstrap.clientKey;
  const cap = `mqtt.once.${Math.random().toString(36).slice(2, 8)}`;
  const agent = await agentOn(r1!, [cap]);
  agent.startHeartbeats(100); // a silent link is closed as dead
  // Job ids are ULIDs: the wildcard is filtered to this test's job (other runs may share the broker).
  const seen: MqttJobMessage[] = [];
  const sub = await mqtt.connectAsync(MOSQUITTO, { reconnectPeriod: 0 });
  let jobId = "";
  sub.on("message", (topic, payload) => {
    if (jobId && topic === mqttTopics.job(jobId)) seen.push(JSON.parse(payload.toString()) as MqttJobMessage);
  });
  await sub.subscribeAsync("gantry/jobs/+", { qos: 1 });
  const job = await new Api(r0!.url, key).submit({ capability: cap, payload: {} });
  jobId = job.id;
  // The agent is on r1, the job was submitted to r0; the events come from both replicas' code paths.
  const p = await agent.nextJob();
  await agent.request({ type: "job:started", jobId, epoch: p.epoch });
  await agent.request({ type: "job:progress", jobId, epoch: p.epoch, progress: { percent: 30 } });
  await agent.request({ type: "job:progress", jobId, epoch: p.epoch, progress: { percent: 60 } });
  await agent.request({ type: "job:completed", jobId, epoch: p.epoch, output: { ok: true } });
  const until = Date.now() + 10_000;
  while (!seen.some((m) => m.type === "status" && m.status === "completed") && Date.now() < until) await sleep(20);
  await sleep(500); // a second copy from the other replica would arrive by now
  await sub.endAsync();
  const keys = seen.map((m) =>
    m.type === "status" ? `status:${m.status}` : m.type === "progress" ? `progress:${m.progress.percent}` : m.type,
  );
  // Once each: no event twice (a second replica republishing), none missing, in order.
  assert.deepEqual(keys, [...new Set(keys)], `each event once: ${keys.join(", ")}`);
  assert.deepEqual(
    keys.filter((k) => ["status:running", "progress:30", "progress:60", "status:completed"].includes(k)),
    ["status:running", "progress:30", "progress:60", "status:completed"],
    keys.join(", "),
  );
  // A late subscriber gets the retained terminal state, once.
  const late = await mqtt.connectAsync(MOSQUITTO, { reconnectPeriod: 0 });
  const retained: MqttJobMessage[] = [];
  late.on("message", (_t, payload) => retained.push(JSON.parse(payload.toString()) as MqttJobMessage));
  await late.subscribeAsync(mqttTopics.job(jobId), { qos: 1 });
  await sleep(500);
  await late.endAsync();
  assert.deepEqual(
    retained.map((m) => m.type === "status" && m.status),
    ["completed"],
  );
});

test("GET /v1/agents on one replica shows an agent connected to the other with fresh load, metrics and loaded models", {
  skip: !pgUp,
}, async () => {
  const [r0, r1] = servers;
  const agent = await agentOn(r1!, ["llm.x", "llm.y"]);
  const api0 = new Api(r0!.url, r0!.bootstrap.clientKey);
  const viewOn0 = async () =>
    ((await api0.call("GET", "/v1/agents")).body.agents as AgentView[]).find((a) => a.id === agent.agentId)!;
  // Heartbeats as an agent sends them (a silent link is closed as dead), with figures set below.
  let metrics = { cpuPercent: 11, loadedModels: ["llm.x"] };
  const beats = setInterval(() => agent.send({ type: "heartbeat", status: "idle", running: [], metrics }), 100);
  const waitFor = async (what: string, ok: (v: AgentView) => boolean) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const v = await viewOn0();
      if (ok(v)) return v;
      assert.ok(Date.now() < deadline, `${what}: ${JSON.stringify(v)}`);
      await sleep(100);
    }
  };
  const first = await waitFor("the first heartbeat", (v) => v.metrics?.cpuPercent === 11);
  assert.equal(first.online, true);
  assert.equal(first.status, "idle");
  assert.deepEqual(first.metrics?.loadedModels, ["llm.x"]);
  // Same status, other figures: still written (a shared database is what the other replica reads).
  metrics = { cpuPercent: 77, loadedModels: ["llm.y"] };
  const second = await waitFor("a later heartbeat with only new figures", (v) => v.metrics?.cpuPercent === 77);
  assert.deepEqual(second.metrics?.loadedModels, ["llm.y"]);
  assert.ok(Date.parse(second.lastSeenAt!) > Date.parse(first.lastSeenAt!));
  clearInterval(beats);
});
