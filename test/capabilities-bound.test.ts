import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { GantryClient } from "@gantry/client";
import { CAPABILITY_SUMMARY_LIMITS, MQTT_MAX_PACKET_BYTES, type MqttCapabilities, mqttTopics } from "@gantry/protocol";
import mqtt from "mqtt";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

// Three agents advertising 256 distinct capabilities each, every one padded with attributes, and one
// capability whose attributes merged across two agents are more than the per-capability bound.
let t: TestServer;
const AGENTS = 3;
const attrs = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}:${"v".repeat(6)}`);
before(async () => {
  t = await testServer(FAST);
  for (let a = 0; a < AGENTS; a++) {
    const caps = Array.from({ length: 255 }, (_, j) => `bound.a${a}.${j}[${attrs(12, "k").join(";")}]`);
    caps.push(`wide[${Array.from({ length: 20 }, (_, i) => `w${a * 20 + i}`).join(";")}]`);
    const agent = await t.agent({ capabilities: caps, capacity: 1 });
    await agent.connect();
  }
});
after(() => t.close());

const TOTAL = AGENTS * 255 + 1;

test("GET /v1/capabilities is bounded: the busiest 500, 32 attributes each, flagged truncated with the total", async () => {
  const r = await fetch(`${t.server.url}/v1/capabilities`, {
    headers: { authorization: `Bearer ${t.server.bootstrap.clientKey}` },
  });
  assert.equal(r.status, 200);
  const body = (await r.json()) as {
    capabilities: { name: string; agents: number; attributes: object }[];
    total: number;
    truncated: boolean;
  };
  assert.equal(body.capabilities.length, CAPABILITY_SUMMARY_LIMITS.maxCapabilities);
  assert.equal(body.total, TOTAL);
  assert.equal(body.truncated, true);
  const wide = body.capabilities.find((c) => c.name === "wide");
  assert.equal(wide?.agents, AGENTS, "the busiest capability is kept");
  assert.equal(Object.keys(wide?.attributes ?? {}).length, CAPABILITY_SUMMARY_LIMITS.maxAttributes);
  const names = body.capabilities.map((c) => c.name);
  assert.deepEqual(
    names,
    [...names].sort((a, b) => a.localeCompare(b)),
    "sorted by name",
  );
});

test("?name= answers for named capabilities even when the full list leaves them out; waitForWorkers uses it", async () => {
  const client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey });
  const all = await client.capabilities();
  const left = Array.from({ length: AGENTS }, (_, a) => `bound.a${a}.254`).find((n) => !all.some((c) => c.name === n));
  assert.ok(left, "some capability was cut from the full list");
  const [one] = await client.capabilities({ names: [left] });
  assert.equal(one?.name, left);
  assert.equal(one?.agents, 1);
  const [ready] = await client.waitForWorkers([left], { timeout: 5000 });
  assert.equal(ready?.name, left);
  const bad = await fetch(`${t.server.url}/v1/capabilities?name=${"x,".repeat(200)}`, {
    headers: { authorization: `Bearer ${t.server.bootstrap.clientKey}` },
  });
  assert.equal(bad.status, 400, "over 100 names is refused");
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "validation_failed");
});

test("the retained gantry/capabilities message stays under the byte bound, truncated with the total", async () => {
  const c = await mqtt.connectAsync(`${t.server.url.replace(/^http/, "ws")}/mqtt`, {
    username: "gantry",
    password: t.server.bootstrap.clientKey,
    reconnectPeriod: 0,
  });
  // The retained message may predate the last agent; wait for the summary of all of them.
  const message = new Promise<Buffer>((resolve) =>
    c.on("message", (_topic, payload) => {
      if ((JSON.parse(payload.toString()) as MqttCapabilities).total === TOTAL) resolve(payload);
    }),
  );
  await c.subscribeAsync(mqttTopics.capabilities, { qos: 1 });
  const payload = await message;
  assert.ok(payload.length <= CAPABILITY_SUMMARY_LIMITS.maxMqttBytes + 200, `${payload.length} bytes`);
  assert.ok(payload.length < MQTT_MAX_PACKET_BYTES);
  const m = JSON.parse(payload.toString()) as MqttCapabilities;
  assert.equal(m.truncated, true);
  assert.equal(m.total, TOTAL);
  assert.ok(m.capabilities.length > 0 && m.capabilities.length < CAPABILITY_SUMMARY_LIMITS.maxCapabilities);
  assert.ok(
    m.capabilities.some((x) => x.name === "wide"),
    "the busiest is kept",
  );
  await c.endAsync();
});
