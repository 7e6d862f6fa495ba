import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import mqtt from "mqtt";
import WebSocket from "ws";
import { Api } from "./helpers/api.ts";
import { type ServerProc, spawnAgent, spawnServer } from "./helpers/processes.ts";
import { post } from "./helpers/raw-agent.ts";
import { tempDir } from "./helpers/temp-dir.ts";

const dir = tempDir();
let server: ServerProc | undefined;
after(async () => {
  server?.kill("SIGKILL");
  await server?.exited;
  dir.remove();
});

test("secrets are hashed at rest and never logged, even at debug level", async () => {
  const s = await spawnServer({ port: 0, dataDir: dir.path, logLevel: "trace" });
  server = s;
  const boot = s.bootstrap;
  const api = new Api(s.url, boot.clientKey);
  await api.submit({ capability: "secret.test" });
  await api.call("GET", `/v1/jobs?token=${boot.clientKey}`);
  const reg = await post(`${s.url}/agent/register`, { apiKey: boot.agentKey, capabilities: ["secret.test"] });
  const auth = await post(`${s.url}/agent/auth`, { agentId: reg.body.agentId, key: reg.body.key });
  const login = await post(`${s.url}/v1/auth/login`, { username: boot.adminUser, password: boot.adminPassword });
  await post(`${s.url}/v1/auth/refresh`, { refreshToken: login.body.refreshToken });
  await post(`${s.url}/v1/auth/login`, { username: boot.adminUser, password: "wrong-password-123" });
  const ws = new WebSocket(`${s.url.replace("http", "ws")}/v1/events/ws?token=${boot.clientKey}`);
  await new Promise((r) => ws.once("open", r));
  ws.close();
  await fetch(`${s.url}/private/agent/ping`, { headers: { authorization: `Bearer ${auth.body.token}` } });
  // Accounts: a key and a user made through the API, a rotated refresh token, a password change.
  const admin = new Api(s.url, login.body.accessToken);
  const made = await admin.call("POST", "/v1/keys", { scopes: ["jobs:read"], capabilities: ["llm.*"] });
  const enrol = await admin.call("POST", "/v1/keys", { kind: "enrolment", maxUses: 1 });
  await new Api(s.url, made.body.key).call("GET", "/v1/auth/me");
  await admin.call("POST", "/v1/users", {
    username: "eve",
    password: "eve-secret-password-1",
    permissions: ["jobs:read"],
  });
  const eve = await post(`${s.url}/v1/auth/login`, { username: "eve", password: "eve-secret-password-1" });
  const rotated = await post(`${s.url}/v1/auth/refresh`, { refreshToken: eve.body.refreshToken });
  await post(`${s.url}/v1/auth/refresh`, { refreshToken: eve.body.refreshToken }); // a reuse
  await new Api(s.url, eve.body.accessToken).call("POST", "/v1/auth/password", {
    currentPassword: "eve-secret-password-1",
    newPassword: "eve-new-secret-password",
  });
  // MQTT: a key and a user token as CONNECT passwords, the key's session cut by its revocation, a bad password.
  const mqttUrl = `${s.url.replace("http", "ws")}/mqtt`;
  const byKey = await mqtt.connectAsync(mqttUrl, { username: "gantry", password: made.body.key, reconnectPeriod: 0 });
  const byToken = await mqtt.connectAsync(mqttUrl, {
    username: "gantry",
    password: login.body.accessToken,
    reconnectPeriod: 0,
  });
  await byToken.endAsync();
  await mqtt.connectAsync(mqttUrl, { username: "gantry", password: "gnt_c_not-a-real-key", reconnectPeriod: 0 }).then(
    (c) => c.endAsync(),
    () => {},
  );
  const cut = new Promise<void>((r) => byKey.once("close", () => r()));
  await admin.call("DELETE", `/v1/keys/${made.body.id}`);
  await cut;
  await new Promise((r) => setTimeout(r, 300));

  const accountSecrets = [
    made.body.key,
    enrol.body.key,
    "eve-secret-password-1",
    "eve-new-secret-password",
    eve.body.accessToken,
    eve.body.refreshToken,
    rotated.body.refreshToken,
  ];
  const secrets = [
    ...accountSecrets,
    boot.clientKey,
    boot.agentKey,
    boot.adminPassword,
    reg.body.key,
    auth.body.token,
    login.body.accessToken,
    login.body.refreshToken,
    "wrong-password-123",
  ];
  // The fixture's READY line hands the bootstrap keys to this test; everything else is the server's log.
  const logged = s
    .output()
    .split("\n")
    .filter((l) => !l.startsWith("READY "))
    .join("\n");
  assert.ok(logged.length > 0, "the server logged nothing at trace level");
  for (const secret of secrets) assert.ok(!logged.includes(secret), `a secret reached the log: ${secret.slice(0, 8)}…`);

  // At rest: the database holds hashes, never the keys themselves.
  const db =
    readFileSync(join(dir.path, "gantry.db")).toString("latin1") +
    readFileSync(join(dir.path, "gantry.db-wal")).toString("latin1");
  const atRest = [boot.clientKey, boot.agentKey, reg.body.key, login.body.refreshToken, boot.adminPassword];
  for (const secret of [...atRest, made.body.key, enrol.body.key, "eve-secret-password-1", rotated.body.refreshToken]) {
    assert.ok(!db.includes(secret), `a secret is stored in plain text: ${secret.slice(0, 8)}…`);
  }
});

test("the agent never logs its keys or tokens, even at trace level", async () => {
  const s = server!;
  const boot = JSON.parse(readFileSync(join(dir.path, "bootstrap.json"), "utf8"));
  const agentDir = tempDir();
  const agent = await spawnAgent(
    {
      server: s.url,
      key: boot.agentKey,
      configPath: join(agentDir.path, "agent.json"),
      logLevel: "trace",
      statusServer: false,
    },
    agentDir.path,
  );
  try {
    const api = new Api(s.url, boot.clientKey);
    const job = await api.submit({ capability: "debug.echo", payload: { n: 1 } });
    await api.waitTerminal(job.id);
    const saved = JSON.parse(readFileSync(join(agentDir.path, "agent.json"), "utf8"));
    for (const secret of [boot.agentKey, saved.key, saved.jwtToken]) {
      assert.ok(typeof secret === "string" && secret.length > 10);
      assert.ok(!agent.output().includes(secret), `the agent logged a secret: ${secret.slice(0, 8)}…`);
    }
  } finally {
    agent.kill("SIGKILL");
    await agent.exited;
    agentDir.remove();
  }
});
