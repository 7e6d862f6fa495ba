import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mqttTopics } from "@gantry/protocol";
import mqtt, { type MqttClient } from "mqtt";
import { Api } from "./helpers/api.ts";
import { post } from "./helpers/raw-agent.ts";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * Live MQTT sessions on the embedded broker end with their credential: a revoked key, a deactivated
 * user, a logout, an access token reaching its `exp`. The periodic re-check is set far beyond the
 * test's life, so what closes a session here is the revocation itself (announced on the cluster bus)
 * or the token's expiry timer. Also: the per-credential connection limit counts MQTT sessions.
 */
let t: TestServer;
let admin: Api;
before(async () => {
  t = await testServer({
    ...FAST,
    mqttPort: 0,
    credentialRecheckMs: 3_600_000,
    maxStreamsPerCredential: 2,
    tokenTtlSecs: 3,
  });
  const login = await post(`${t.server.url}/v1/auth/login`, {
    username: "admin",
    password: t.server.bootstrap.adminPassword,
  });
  // Access tokens live 3 s here: the admin works with an admin key instead.
  const key = await new Api(t.server.url, login.body.accessToken).call("POST", "/v1/keys", { scopes: ["admin"] });
  assert.equal(key.status, 201);
  admin = new Api(t.server.url, key.body.key);
});
after(() => t.close());

const urls = () => ({
  ws: `${t.server.url.replace("http", "ws")}/mqtt`,
  tcp: `mqtt://127.0.0.1:${t.server.mqtt.tcpPort}`,
});
const connect = (password: string, transport: "ws" | "tcp" = "tcp") =>
  mqtt.connectAsync(urls()[transport], { username: "gantry", password, reconnectPeriod: 0, connectTimeout: 20_000 });
const closed = (c: MqttClient) => new Promise<void>((r) => c.once("close", () => r()));
/** The CONNACK code a refused CONNECT got. */
async function refusedWith(password: string): Promise<number | undefined> {
  const err = await connect(password).then(
    async (c) => {
      await c.endAsync();
      return undefined;
    },
    (e: { code?: number }) => e,
  );
  assert.ok(err, "the connection was refused");
  return err.code;
}

async function newKey(): Promise<{ id: string; key: string }> {
  const r = await admin.call("POST", "/v1/keys", { scopes: ["jobs:read", "jobs:write", "agents:read"] });
  assert.equal(r.status, 201);
  return r.body;
}

for (const transport of ["tcp", "ws"] as const) {
  test(`revoking a key closes its MQTT sessions over ${transport}; it can neither reconnect nor resubscribe`, async () => {
    const key = await newKey();
    const job = await new Api(t.server.url, key.key).submit({ capability: `mqs.${transport}` });
    const c = await connect(key.key, transport);
    const granted = await c.subscribeAsync(mqttTopics.job(job.id), { qos: 1 });
    assert.equal(granted[0]?.qos, 1, "the owner may subscribe before the revocation");
    const ended = closed(c);
    assert.equal((await admin.call("DELETE", `/v1/keys/${key.id}`)).status, 200);
    await ended;
    assert.equal(await refusedWith(key.key), 4, "CONNACK 4: bad user name or password");
  });
}

test("an access token used as MQTT password: the session ends at the token's expiry", async () => {
  const login = await post(`${t.server.url}/v1/auth/login`, {
    username: "admin",
    password: t.server.bootstrap.adminPassword,
  });
  const c = await connect(login.body.accessToken);
  const granted = await c.subscribeAsync(mqttTopics.capabilities, { qos: 0 });
  assert.equal(granted[0]?.qos, 0);
  await closed(c); // nothing else ends it: the re-check timer is an hour away
  assert.equal(await refusedWith(login.body.accessToken), 4, "the expired token is refused");
});

test("deactivating a user or logging out closes the user's MQTT sessions", async () => {
  await admin.call("POST", "/v1/users", { username: "mona", password: "mona-password-1", permissions: ["jobs:read"] });
  const mona = async () =>
    (await post(`${t.server.url}/v1/auth/login`, { username: "mona", password: "mona-password-1" })).body;
  const first = await mona();
  const c1 = await connect(first.accessToken);
  const ended1 = closed(c1);
  assert.equal((await new Api(t.server.url, first.accessToken).call("POST", "/v1/auth/logout")).status, 204);
  await ended1;

  const second = await mona();
  const c2 = await connect(second.accessToken, "ws");
  const ended2 = closed(c2);
  const me = (await new Api(t.server.url, second.accessToken).call("GET", "/v1/auth/me")).body;
  assert.equal((await admin.call("PATCH", `/v1/users/${me.id}`, { active: false })).status, 200);
  await ended2;
  assert.equal(await refusedWith(second.accessToken), 4);
});

test("MQTT sessions count against the credential's connection limit; closing one frees its place", async () => {
  const key = await newKey();
  const a = await connect(key.key);
  const b = await connect(key.key, "ws");
  assert.equal(await refusedWith(key.key), 3, "CONNACK 3: a third connection of the key is refused");
  const other = await newKey();
  const o = await connect(other.key);
  await a.endAsync();
  // The place is given back when the broker sees the socket close, a moment after endAsync.
  let c: MqttClient | undefined;
  while (!c) c = await connect(key.key).catch(() => undefined);
  await Promise.all([b.endAsync(), c.endAsync(), o.endAsync()]);
});

test("MQTT honours a key's capability patterns: its owner's other jobs and job wildcards are refused", async () => {
  const limited = (
    await admin.call("POST", "/v1/keys", { scopes: ["jobs:read", "jobs:write"], capabilities: ["mqsllm.*"] })
  ).body;
  const limitedAdmin = (await admin.call("POST", "/v1/keys", { scopes: ["admin"], capabilities: ["mqsllm.*"] })).body;
  const inside = await new Api(t.server.url, limited.key).submit({ capability: "mqsllm.chat" });
  // The same owner's job outside the patterns (submitted by the owner's unrestricted key).
  const outside = await admin.submit({ capability: "mqsocr.read" });
  for (const key of [limited.key, limitedAdmin.key]) {
    const c = await connect(key);
    assert.equal((await c.subscribeAsync(mqttTopics.job(inside.id), { qos: 1 }))[0]?.qos, 1);
    for (const topic of [mqttTopics.job(outside.id), "gantry/jobs/+", "gantry/#"]) {
      await assert.rejects(c.subscribeAsync(topic, { qos: 1 }), /Subscribe error/, topic);
    }
    await c.endAsync();
  }
  // An admin credential without patterns still may.
  const c = await connect(admin.key);
  assert.equal((await c.subscribeAsync(mqttTopics.job(outside.id), { qos: 1 }))[0]?.qos, 1);
  assert.equal((await c.subscribeAsync("gantry/jobs/+", { qos: 1 }))[0]?.qos, 1);
  await c.endAsync();
});
