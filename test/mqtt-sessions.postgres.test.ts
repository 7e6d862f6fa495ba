import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GantryServer } from "@gantry/server";
import mqtt from "mqtt";
import { Api } from "./helpers/api.ts";
import { deployment, postgresReachable, startReplicas } from "./helpers/replicas.ts";
import { FAST } from "./helpers/test-server.ts";

/**
 * Two replicas on one PostgreSQL: a key revoked or a user deactivated through replica B closes
 * their MQTT sessions on replica A's embedded broker. The periodic re-check is an hour away, so only
 * the cluster bus can do it.
 */
const reachable = await postgresReachable();
const d = deployment();
let a: GantryServer;
let b: GantryServer;
let adminB: Api;

before(async () => {
  if (!reachable) return;
  [a, b] = (await startReplicas(d, 2, { ...FAST, mqttPort: 0, credentialRecheckMs: 3_600_000 })) as [
    GantryServer,
    GantryServer,
  ];
  const login = await new Api(b.url, "").call("POST", "/v1/auth/login", {
    username: a.bootstrap.adminUser,
    password: a.bootstrap.adminPassword,
  });
  adminB = new Api(b.url, login.body.accessToken);
});
after(async () => {
  if (!reachable) return;
  await a?.close();
  await b?.close();
  await d.drop();
});

const connectA = (password: string) =>
  mqtt.connectAsync(`mqtt://127.0.0.1:${a.mqtt.tcpPort}`, { username: "gantry", password, reconnectPeriod: 0 });

test("a key revoked on replica B closes its MQTT session on replica A", { skip: !reachable }, async () => {
  const key = (await adminB.call("POST", "/v1/keys", { scopes: ["jobs:read"] })).body;
  const c = await connectA(key.key);
  const closed = new Promise<void>((r) => c.once("close", () => r()));
  assert.equal((await adminB.call("DELETE", `/v1/keys/${key.id}`)).status, 200);
  await closed;
  await assert.rejects(connectA(key.key), (e: { code?: number }) => e.code === 4);
});

test("a user deactivated on replica B loses its MQTT session on replica A", { skip: !reachable }, async () => {
  await adminB.call("POST", "/v1/users", { username: "rita", password: "rita-password-1", permissions: ["jobs:read"] });
  const login = await new Api(a.url, "").call("POST", "/v1/auth/login", {
    username: "rita",
    password: "rita-password-1",
  });
  const c = await connectA(login.body.accessToken);
  const closed = new Promise<void>((r) => c.once("close", () => r()));
  const id = (await new Api(a.url, login.body.accessToken).call("GET", "/v1/auth/me")).body.id;
  assert.equal((await adminB.call("PATCH", `/v1/users/${id}`, { active: false })).status, 200);
  await closed;
});
