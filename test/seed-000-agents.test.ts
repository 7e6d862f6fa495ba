import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { decodeJwt } from "jose";
import { post, RawAgent } from "./helpers/raw-agent.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

// Seed 000 as real OffloadMQ agents speak it: extra registration fields, absolute expiresIn, and
// capability names such as GENERAL_COMPUTE.
let t: TestServer;
before(async () => {
  t = await testServer({ logLevel: "warn" });
});
after(() => t.close());

test("registration accepts appVersion and displayName, ignores unknown fields, lists displayName", async () => {
  const reg = await post(`${t.server.url}/agent/register`, {
    apiKey: t.server.bootstrap.agentKey,
    capabilities: ["GENERAL_COMPUTE"],
    tier: 5,
    capacity: 1,
    appVersion: "0.3.1",
    displayName: "Kitchen PC",
    somethingNew: { a: 1 },
  });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const list = await t.api.call("GET", "/v1/agents");
  const view = list.body.agents.find((a: { id: string }) => a.id === reg.body.agentId);
  assert.equal(view.displayName, "Kitchen PC");
  assert.deepEqual(view.capabilities, ["GENERAL_COMPUTE"]);

  const long = await post(`${t.server.url}/agents`, {
    apiKey: t.server.bootstrap.agentKey,
    displayName: "x".repeat(51),
  });
  assert.equal(long.status, 400);
  assert.equal(long.body.error.code, "validation_failed");
});

test("/agent/auth and the token frame answer expiresIn as the absolute expiry in Unix seconds", async () => {
  const agent = await t.agent();
  const auth = await post(`${t.server.url}/agent/auth`, { agentId: agent.agentId, key: agent.key });
  assert.equal(auth.status, 200);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(auth.body.expiresIn > now && auth.body.expiresIn <= now + 900 + 5, String(auth.body.expiresIn));
  assert.equal(auth.body.expiresIn, decodeJwt(auth.body.token).exp);

  await agent.connect();
  const ref = agent.nextRef();
  agent.send({ type: "token:refresh", ref });
  const frame = await agent.next((m) => m.type === "token");
  assert.equal(frame.type, "token");
  if (frame.type !== "token") return;
  assert.equal(frame.expiresIn, decodeJwt(frame.token).exp);
  assert.ok(frame.expiresIn > now);
});

test("capability names match case-insensitively: GENERAL_COMPUTE agents get general_compute jobs", async () => {
  const agent = await RawAgent.enrol(t.server.url, t.server.bootstrap.agentKey, { capabilities: ["GENERAL_COMPUTE"] });
  await agent.connect();
  try {
    const job = await t.api.submit({ capability: "general_compute", payload: {} });
    assert.equal((await agent.nextJob(20_000)).id, job.id);
    const upper = await t.api.call("POST", "/v1/jobs", { capability: "General_Compute[Gpu]", payload: {} });
    assert.equal(upper.status, 201, JSON.stringify(upper.body));
  } finally {
    await agent.close();
  }
});
