import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CommandBody } from "@gantry/protocol";
import { compactVerify, importJWK } from "jose";
import { Api } from "./helpers/api.ts";
import type { RawAgent } from "./helpers/raw-agent.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
let admin: Api;
before(async () => {
  t = await testServer();
  const login = await t.api.call("POST", "/v1/auth/login", {
    username: t.server.bootstrap.adminUser,
    password: t.server.bootstrap.adminPassword,
  });
  assert.equal(login.status, 200);
  admin = new Api(t.server.url, login.body.accessToken);
});
after(() => t.close());

async function receiveCommand(agent: RawAgent): Promise<CommandBody> {
  const frame = await agent.next((m) => m.type === "command");
  assert.equal(frame.type, "command");
  const key = await importJWK({ kty: "OKP", crv: "Ed25519", x: agent.commandKey }, "EdDSA");
  const { payload } = await compactVerify((frame as { jws: string }).jws, key);
  return CommandBody.parse(JSON.parse(new TextDecoder().decode(payload)));
}

test("commands: signed with the key pinned at registration, addressed, expiring; outcomes recorded", async () => {
  const a = await t.agent({ capabilities: ["cmd.one"] });
  a.startHeartbeats(200);
  await a.connect();
  const sent = await admin.call("POST", `/v1/agents/${a.agentId}/commands`, { type: "diagnostics", ttlSecs: 60 });
  assert.equal(sent.status, 201);
  assert.equal(sent.body.status, "sent");
  const body = await receiveCommand(a);
  assert.equal(body.id, sent.body.id);
  assert.equal(body.agentId, a.agentId);
  assert.ok(body.expiresAt - body.issuedAt === 60_000);
  const ack = await a.request({
    type: "command:result",
    commandId: body.id,
    status: "completed",
    output: { uptime: 1 },
  });
  assert.equal(ack.type, "ack");
  const list = await admin.call("GET", `/v1/agents/${a.agentId}/commands`);
  assert.equal(list.body.commands[0].status, "completed");
  assert.deepEqual(list.body.commands[0].output, { uptime: 1 });
});

test("commands: drain stops new work, resume brings it back; update changes what the agent serves", async () => {
  const a = await t.agent({ capabilities: ["cmd.drain"], capacity: 2 });
  a.startHeartbeats(200);
  await a.connect();
  await admin.call("POST", `/v1/agents/${a.agentId}/commands`, { type: "drain" });
  const drain = await receiveCommand(a);
  await a.request({ type: "command:result", commandId: drain.id, status: "completed" });
  const job = await t.api.submit({ capability: "cmd.drain" });
  await assert.rejects(a.nextJob(400), /timed out/);
  await admin.call("POST", `/v1/agents/${a.agentId}/commands`, { type: "resume" });
  const resume = await receiveCommand(a);
  await a.request({ type: "command:result", commandId: resume.id, status: "completed" });
  assert.equal((await a.nextJob()).id, job.id);

  await admin.call("POST", `/v1/agents/${a.agentId}/commands`, {
    type: "update",
    params: { capabilities: ["cmd.updated"], capacity: 3 },
  });
  const update = await receiveCommand(a);
  assert.deepEqual(update.type === "update" && update.params, { capabilities: ["cmd.updated"], capacity: 3 });
  await a.request({ type: "command:result", commandId: update.id, status: "completed" });
  const other = await t.api.submit({ capability: "cmd.updated" });
  assert.equal((await a.nextJob()).id, other.id);
  const view = (await t.api.call("GET", "/v1/agents")).body.agents.find((x: { id: string }) => x.id === a.agentId);
  assert.deepEqual(view.capabilities, ["cmd.updated"]);
  assert.equal(view.capacity, 3);
});

test("commands: queued for an offline agent and delivered at its next hello; refusals are recorded", async () => {
  const a = await t.agent({ capabilities: ["cmd.offline"] });
  const sent = await admin.call("POST", `/v1/agents/${a.agentId}/commands`, { type: "rescan" });
  assert.equal(sent.body.status, "pending");
  await a.connect();
  const body = await receiveCommand(a);
  assert.equal(body.id, sent.body.id);
  await a.request({ type: "command:result", commandId: body.id, status: "refused", error: "replayed command" });
  const list = await admin.call("GET", `/v1/agents/${a.agentId}/commands`);
  assert.equal(list.body.commands[0].status, "refused");
  assert.equal(list.body.commands[0].error, "replayed command");
});

test("commands: only admins send them; bad commands are refused with the envelope", async () => {
  const a = await t.agent({ capabilities: ["cmd.auth"] });
  const byClient = await t.api.call("POST", `/v1/agents/${a.agentId}/commands`, { type: "drain" });
  assert.equal(byClient.status, 403);
  const bad = await admin.call("POST", `/v1/agents/${a.agentId}/commands`, { type: "self-destruct" });
  assert.equal(bad.status, 400);
  const emptyUpdate = await admin.call("POST", `/v1/agents/${a.agentId}/commands`, { type: "update", params: {} });
  assert.equal(emptyUpdate.status, 400);
  const unknown = await admin.call("POST", "/v1/agents/nope/commands", { type: "drain" });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, "agent_not_found");
});

test("revocation: the agent is disconnected and can no longer authenticate", async () => {
  const a = await t.agent({ capabilities: ["cmd.revoke"] });
  await a.connect();
  const closed = new Promise<number>((resolve) => a.ws!.once("close", (code) => resolve(code)));
  const r = await admin.call("POST", `/v1/agents/${a.agentId}/revoke`);
  assert.equal(r.status, 200);
  assert.ok(r.body.revokedAt);
  assert.equal(await closed, 4403);
  const auth = await t.api.call("POST", "/agent/auth", { agentId: a.agentId, key: a.key });
  assert.equal(auth.status, 403);
  assert.equal(auth.body.error.code, "agent_revoked");
});
