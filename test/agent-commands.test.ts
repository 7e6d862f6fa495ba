import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import { Api } from "./helpers/api.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

/** Signed commands end to end: a real server signs, a real agent verifies and acts. */

let t: TestServer;
let admin: Api;
let agent: Agent;
const dir = tempDir();

before(async () => {
  t = await testServer();
  const login = await t.api.call("POST", "/v1/auth/login", {
    username: t.server.bootstrap.adminUser,
    password: t.server.bootstrap.adminPassword,
  });
  admin = new Api(t.server.url, login.body.accessToken);
  agent = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "agent.json"),
    capacity: 2,
    logLevel: "silent",
    print: () => {},
    metrics: false,
    statusServer: false,
    reconnectBaseMs: 50,
    reconnectCapMs: 200,
  });
  while (agent.status().connection !== "ready") await sleep(20);
});
after(async () => {
  await agent.stop({ drainTimeoutMs: 0 });
  await t.close();
  dir.remove();
});

async function command(body: Record<string, unknown>) {
  const sent = await admin.call("POST", `/v1/agents/${agent.agentId}/commands`, body);
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  for (;;) {
    const list = await admin.call("GET", `/v1/agents/${agent.agentId}/commands`);
    const c = list.body.commands.find((x: { id: string }) => x.id === sent.body.id);
    if (c.status !== "sent" && c.status !== "pending") return c;
    await sleep(25);
  }
}

test("diagnostics: the agent verifies the signature and reports its state", async () => {
  const c = await command({ type: "diagnostics" });
  assert.equal(c.status, "completed");
  assert.equal(c.output.status.agentId, agent.agentId);
  assert.ok(c.output.systemInfo.os);
});

test("drain stops new work until resume", async () => {
  assert.equal((await command({ type: "drain" })).status, "completed");
  assert.equal(agent.state(), "draining");
  const job = await t.api.submit({ capability: "debug.echo", payload: { drained: true } });
  await sleep(300);
  assert.equal((await t.api.get(job.id)).status, "queued");
  assert.equal((await command({ type: "resume" })).status, "completed");
  assert.equal((await t.api.waitTerminal(job.id)).status, "completed");
});

test("update and rescan change what the agent offers", async () => {
  const u = await command({ type: "update", params: { capabilities: ["extra.cap"], capacity: 3 } });
  assert.equal(u.status, "completed");
  const view = (await t.api.call("GET", "/v1/agents")).body.agents.find((a: { id: string }) => a.id === agent.agentId);
  assert.deepEqual(view.capabilities, ["extra.cap"]);
  assert.equal(view.capacity, 3);
  const r = await command({ type: "rescan" });
  assert.equal(r.status, "completed");
  assert.ok(r.output.capabilities.includes("debug.echo"));
  const after = (await t.api.call("GET", "/v1/agents")).body.agents.find((a: { id: string }) => a.id === agent.agentId);
  assert.ok(after.capabilities.includes("debug.echo"));
});

test("restart: the agent stops cleanly with the restart exit code", async () => {
  assert.equal((await command({ type: "restart" })).status, "completed");
  assert.equal(await agent.done, 75);
  // Start it again from its saved identity, as `gantry agent` does.
  agent = await startAgent({
    configPath: join(dir.path, "agent.json"),
    logLevel: "silent",
    print: () => {},
    metrics: false,
    statusServer: false,
  });
  while (agent.status().connection !== "ready") await sleep(20);
  const job = await t.api.submit({ capability: "debug.echo", payload: { back: 1 } });
  assert.deepEqual((await t.api.waitTerminal(job.id)).output, { back: 1 });
});
