import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

// Retention: finished jobs, their logs and attempts go after the configured age; nothing else does.
let t: TestServer;
before(async () => {
  t = await testServer({ logLevel: "warn", retentionDays: 2 / 86_400, retentionSweepIntervalMs: 200 });
});
after(() => t.close());

test("a finished job is deleted with its logs after the retention age; queued jobs stay", async () => {
  const agent = await t.agent({ capabilities: ["keep.short"] });
  await agent.connect();
  const job = await t.api.submit({ capability: "keep.short", payload: {} });
  const held = await agent.nextJob(20_000);
  await agent.request({ type: "job:started", jobId: held.id, epoch: held.epoch });
  await agent.request({ type: "job:log", jobId: held.id, epoch: held.epoch, lines: [{ stream: "stdout", line: "x" }] });
  assert.equal(
    (await agent.request({ type: "job:completed", jobId: held.id, epoch: held.epoch, output: {} })).type,
    "ack",
  );
  await agent.close();
  const waiting = await t.api.submit({ capability: "keep.nobody", payload: {} });
  assert.equal((await t.api.call("GET", `/v1/jobs/${job.id}`)).status, 200);

  const deadline = Date.now() + 60_000;
  while ((await t.api.call("GET", `/v1/jobs/${job.id}`)).status !== 404) {
    if (Date.now() > deadline) throw new Error("the finished job was never deleted");
    await sleep(200);
  }
  assert.equal((await t.api.call("GET", `/v1/jobs/${job.id}/logs`)).status, 404);
  assert.equal((await t.api.get(waiting.id)).status, "queued");
});

test("audit entries are deleted after the audit retention age (--audit-retention-days)", async () => {
  const s = await testServer({ logLevel: "warn", auditRetentionDays: 3 / 86_400, retentionSweepIntervalMs: 100 });
  try {
    const login = (password: string) =>
      fetch(`${s.server.url}/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password }),
      });
    const token = (await (await login(s.server.bootstrap.adminPassword)).json()).accessToken as string;
    assert.equal((await login("not-the-password")).status, 401);
    const failedLogins = async () => {
      const r = await fetch(`${s.server.url}/v1/audit?limit=100`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200);
      const body = (await r.json()) as { events: { action: string }[] };
      return body.events.filter((e) => e.action === "auth.login_failed").length;
    };
    assert.equal(await failedLogins(), 1, "the failed login is recorded");
    const deadline = Date.now() + 60_000;
    while ((await failedLogins()) !== 0) {
      if (Date.now() > deadline) throw new Error("the old audit entry was never deleted");
      await sleep(100);
    }
  } finally {
    await s.close();
  }
});
