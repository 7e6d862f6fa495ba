import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SessionManager } from "@gantry/client";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
before(async () => {
  // Access tokens live 62 s: just over the SDK's 60-second refresh margin.
  t = await testServer({ ...FAST, tokenTtlSecs: 62 });
});
after(() => t.close());

test("token refresh at the 60-second edge: kept while more than 60 s remain, refreshed once fewer do; MQTT uses the fresh token", async () => {
  const session = new SessionManager({ url: t.server.url });
  await session.login(t.server.bootstrap.adminUser, t.server.bootstrap.adminPassword);
  const first = await session.getValidToken();
  assert.equal(await session.getValidToken(), first, "62 s left: no refresh");
  // Wait (bounded only to avoid a hang) until the 60 s edge has passed: then the token must change.
  let next = first;
  const end = Date.now() + 20_000;
  while (next === first && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    next = await session.getValidToken();
  }
  assert.notEqual(next, first, "under 60 s left: refreshed");
  assert.equal(await session.getValidToken(), next, "the refreshed token is kept");
  const client = session.createClient();
  const job = await client.submit("edge.refresh", {});
  assert.equal(await client.connectEvents(), "mqtt");
  await client.cancel(job.id);
  const done = await new Promise((resolve) =>
    client.subscribeJobUpdates(job.id, { onComplete: (j) => resolve(j.status) }),
  );
  assert.equal(done, "cancelled");
  client.close();
});
