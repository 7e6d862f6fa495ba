import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type GantryServer, startServer } from "@gantry/server";
import { Api } from "./helpers/api.ts";
import { RawAgent } from "./helpers/raw-agent.ts";
import { tempDir } from "./helpers/temp-dir.ts";

let server: GantryServer;
let api: Api;
const dir = tempDir();

before(async () => {
  server = await startServer({ port: 0, dataDir: dir.path, logLevel: "warn" });
  api = new Api(server.url, server.bootstrap.clientKey);
});
after(async () => {
  await server.close();
  dir.remove();
});

test("seed flow: register → auth → ping → connect → job pushed → completed", async () => {
  const agent = await RawAgent.enrol(server.url, server.bootstrap.agentKey, {
    capabilities: ["debug.echo[cpu]"],
    tier: 8,
    capacity: 4,
    systemInfo: { os: "Ubuntu 22.04.3 LTS", arch: "x86_64", memoryMb: 32768, gpu: null },
  });
  assert.match(agent.agentId, /^[0-9a-f-]{36}$/);
  const ping = await fetch(`${server.url}/private/agent/ping`, { headers: { authorization: `Bearer ${agent.token}` } });
  assert.equal(ping.status, 200);
  assert.deepEqual(await ping.json(), { status: "ok" });

  const welcome = await agent.connect();
  assert.equal(welcome.type, "welcome");

  const submitted = await api.submit({ capability: "debug.echo", payload: { x: 1 } });
  assert.equal(submitted.status, "queued");
  const pushed = await agent.nextJob();
  assert.equal(pushed.id, submitted.id);
  assert.equal(pushed.epoch, 1);
  assert.deepEqual(pushed.payload, { x: 1 });

  assert.equal((await agent.request({ type: "job:started", jobId: pushed.id, epoch: 1 })).type, "ack");
  assert.equal((await api.get(pushed.id)).status, "running");
  const done = await agent.request({ type: "job:completed", jobId: pushed.id, epoch: 1, output: { x: 1 } });
  assert.equal(done.type, "ack");

  const job = await api.get(pushed.id);
  assert.equal(job.status, "completed");
  assert.deepEqual(job.output, { x: 1 });
  assert.equal(job.attempts.length, 1);
  assert.equal(job.attempts[0]!.agentId, agent.agentId);
  await agent.close();
});

test("the seed's /agents alias registers too, and a bad enrolment key is refused", async () => {
  const ok = await fetch(`${server.url}/agents`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      apiKey: server.bootstrap.agentKey,
      capabilities: ["llm.mistral-7b"],
      tier: 5,
      capacity: 1,
      systemInfo: {},
    }),
  });
  assert.equal(ok.status, 200);
  const body = await ok.json();
  assert.equal(body.message, "Registered");
  const bad = await fetch(`${server.url}/agent/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ apiKey: "gnt_a_wrong", capabilities: [] }),
  });
  assert.equal(bad.status, 401);
  assert.equal((await bad.json()).error.code, "agent_enrolment_invalid");
});

test("a completion with a stale epoch is refused with 409", async () => {
  const agent = await RawAgent.enrol(server.url, server.bootstrap.agentKey);
  await agent.connect();
  const job = await api.submit({ capability: "debug.echo", payload: {} });
  const pushed = await agent.nextJob();
  assert.equal(pushed.id, job.id);
  const stale = await agent.request({ type: "job:completed", jobId: job.id, epoch: pushed.epoch + 1, output: {} });
  assert.equal(stale.type, "nack");
  assert.equal(stale.type === "nack" && stale.status, 409);
  assert.equal(stale.type === "nack" && stale.error.code, "agent_lease_stale");
  assert.equal((await api.get(job.id)).status, "assigned");
  const again = await agent.request({ type: "job:completed", jobId: job.id, epoch: pushed.epoch, output: { ok: 1 } });
  assert.equal(again.type, "ack");
  const dup = await agent.request({ type: "job:completed", jobId: job.id, epoch: pushed.epoch, output: { ok: 1 } });
  assert.deepEqual(dup, { type: "ack", ref: (dup as { ref: number }).ref, duplicate: true });
  await agent.close();
});

test("the server serves an OpenAPI document generated from the protocol schemas", async () => {
  const doc = await (await fetch(`${server.url}/openapi.json`)).json();
  assert.match(doc.openapi, /^3\./);
  for (const path of [
    "/v1/jobs",
    "/v1/jobs/{id}",
    "/v1/jobs/{id}/cancel",
    "/agent/register",
    "/agent/auth",
    "/v1/agents",
  ]) {
    assert.ok(doc.paths[path], `missing ${path}`);
  }
  const body = doc.paths["/v1/jobs"].post.requestBody.content["application/json"].schema;
  assert.deepEqual(body.required, ["capability"]);
  assert.equal(body.additionalProperties, false);
});

test("first start writes bootstrap.json (mode 0600) with the admin login, a client key and an enrolment key", async () => {
  const { statSync, readFileSync } = await import("node:fs");
  assert.equal(statSync(server.bootstrapPath).mode & 0o777, 0o600);
  const boot = JSON.parse(readFileSync(server.bootstrapPath, "utf8"));
  assert.deepEqual(Object.keys(boot).sort(), ["adminPassword", "adminUser", "agentKey", "clientKey"]);
  assert.match(boot.clientKey, /^gnt_c_/);
  assert.match(boot.agentKey, /^gnt_a_/);
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
});
