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

/** Polls until the session's token changes (bounded only so a bug fails instead of hanging). */
async function untilRefreshed(session: SessionManager, first: string): Promise<string> {
  let next = first;
  const end = Date.now() + 20_000;
  while (next === first && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    next = await session.getValidToken();
  }
  return next;
}

test("token refresh at the 60-second edge: kept while more than 60 s remain, refreshed once fewer do; MQTT uses the fresh token", async () => {
  const session = new SessionManager({ url: t.server.url });
  await session.login(t.server.bootstrap.adminUser, t.server.bootstrap.adminPassword);
  const first = await session.getValidToken();
  assert.equal(await session.getValidToken(), first, "62 s left: no refresh");
  const next = await untilRefreshed(session, first);
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

for (const events of ["mqtt", "ws"] as const) {
  test(`a live ${events} subscription made before the refresh survives it: progress in order and onComplete once after`, async () => {
    const session = new SessionManager({ url: t.server.url });
    await session.login(t.server.bootstrap.adminUser, t.server.bootstrap.adminPassword);
    const first = await session.getValidToken();
    const client = session.createClient({ events });
    const cap = `edge.live.${events}`;
    const job = await client.submit(cap, {});
    const progress: number[] = [];
    let completes = 0;
    const done = new Promise<string>((resolve, reject) =>
      client.subscribeJobUpdates(job.id, {
        onProgress: (p) => {
          progress.push(p.percent);
        },
        onComplete: (j) => {
          completes++;
          resolve(j.status);
        },
        onError: reject,
      }),
    );
    assert.equal(await client.connectEvents(), events);
    // Subscribed with the first token; now cross the edge so every later request uses a new one.
    assert.notEqual(await untilRefreshed(session, first), first);
    const a = await t.agent({ capabilities: [cap] });
    await a.connect();
    const p = await a.nextJob();
    await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
    await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 30 } });
    await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 60 } });
    await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: {} });
    assert.equal(await done, "completed");
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(progress, [30, 60]);
    assert.equal(completes, 1);
    client.close();
    await a.close();
  });
}
