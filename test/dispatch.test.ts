import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
before(async () => {
  t = await testServer();
});
after(() => t.close());

describe("dispatch", () => {
  test("capacity: an agent never holds more jobs than its capacity", async () => {
    const a = await t.agent({ capabilities: ["cap.capacity"], capacity: 2 });
    a.startHeartbeats(200);
    await a.connect();
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await t.api.submit({ capability: "cap.capacity", payload: { i } }));
    const first = await a.nextJob();
    const second = await a.nextJob();
    await assert.rejects(a.nextJob(300), /timed out/);
    await a.request({ type: "job:completed", jobId: first.id, epoch: first.epoch, output: null });
    const third = await a.nextJob();
    assert.deepEqual(
      [first, second, third].map((j) => j.id),
      jobs.slice(0, 3).map((j) => j.id),
    );
    await assert.rejects(a.nextJob(300), /timed out/);
  });

  test("an agent with several capabilities and one slot gets work for any of them", async () => {
    const job = await t.api.submit({ capability: "multi.two" });
    const a = await t.agent({ capabilities: ["multi.one", "multi.two", "multi.three"], capacity: 1 });
    a.startHeartbeats(200);
    await a.connect();
    assert.equal((await a.nextJob()).id, job.id);
  });

  test("tier: higher tiers get work first, lower tiers get it when higher ones are full", async () => {
    const high = await t.agent({ capabilities: ["cap.tier"], tier: 9, capacity: 1 });
    const low = await t.agent({ capabilities: ["cap.tier"], tier: 1, capacity: 1 });
    for (const a of [high, low]) {
      a.startHeartbeats(200);
      await a.connect();
    }
    const j1 = await t.api.submit({ capability: "cap.tier" });
    assert.equal((await high.nextJob()).id, j1.id);
    const j2 = await t.api.submit({ capability: "cap.tier" });
    assert.equal((await low.nextJob()).id, j2.id, "the low tier takes work while the high tier is full");
  });

  test("priority: higher priority first, then oldest", async () => {
    const ids: Record<string, string> = {};
    for (const [name, priority] of [
      ["a0", 0],
      ["b5", 5],
      ["c-1", -1],
      ["d5", 5],
    ] as const) {
      ids[name] = (await t.api.submit({ capability: "cap.priority", priority })).id;
    }
    const a = await t.agent({ capabilities: ["cap.priority"], capacity: 1 });
    a.startHeartbeats(200);
    await a.connect();
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const j = await a.nextJob();
      order.push(j.id);
      await a.request({ type: "job:completed", jobId: j.id, epoch: j.epoch, output: null });
    }
    assert.deepEqual(order, [ids.b5, ids.d5, ids.a0, ids["c-1"]]);
  });

  test("maxWaitSecs: a job no agent picks up fails", async () => {
    const job = await t.api.submit({ capability: "cap.nobody", maxWaitSecs: 0.3 });
    const done = await t.api.waitTerminal(job.id);
    assert.equal(done.status, "failed");
    assert.equal(done.error?.category, "timeout");
    assert.equal(done.error?.code, "max_wait");
  });

  test("timeoutSecs: a held job fails at its deadline and the agent is told to stop", async () => {
    const a = await t.agent({ capabilities: ["cap.timeout"] });
    a.startHeartbeats(200);
    await a.connect();
    const job = await t.api.submit({ capability: "cap.timeout", timeoutSecs: 0.5 });
    const pushed = await a.nextJob();
    await a.request({ type: "job:started", jobId: pushed.id, epoch: pushed.epoch });
    const cancel = await a.next((m) => m.type === "job:cancel");
    assert.deepEqual(cancel, { type: "job:cancel", jobId: job.id, epoch: pushed.epoch });
    const done = await t.api.get(job.id);
    assert.equal(done.status, "failed");
    assert.equal(done.error?.code, "timeout");
    const late = await a.request({ type: "job:completed", jobId: job.id, epoch: pushed.epoch, output: 1 });
    assert.equal(late.type, "nack");
  });

  test("cancel: a queued job is cancelled at once", async () => {
    const job = await t.api.submit({ capability: "cap.cancel-queued" });
    const r = await t.api.call("POST", `/v1/jobs/${job.id}/cancel`);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, "cancelled");
    const again = await t.api.call("POST", `/v1/jobs/${job.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, "job_not_cancellable");
  });

  test("cancel: a running job is cancelled once the agent acknowledges", async () => {
    const a = await t.agent({ capabilities: ["cap.cancel-running"] });
    a.startHeartbeats(200);
    await a.connect();
    const job = await t.api.submit({ capability: "cap.cancel-running" });
    const pushed = await a.nextJob();
    await a.request({ type: "job:started", jobId: pushed.id, epoch: pushed.epoch });
    const r = await t.api.call("POST", `/v1/jobs/${job.id}/cancel`);
    assert.equal(r.body.status, "running");
    assert.ok(r.body.cancelRequestedAt);
    await a.next((m) => m.type === "job:cancel");
    assert.equal((await a.request({ type: "job:cancelled", jobId: job.id, epoch: pushed.epoch })).type, "ack");
    assert.equal((await t.api.get(job.id)).status, "cancelled");
  });

  test("idempotency: the same key and request return the same job; a different request conflicts", async () => {
    const body = { capability: "cap.idem", payload: { n: 1 }, idempotencyKey: "order-42" };
    const first = await t.api.call("POST", "/v1/jobs", body);
    const second = await t.api.call("POST", "/v1/jobs", body);
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(second.body.id, first.body.id);
    const conflict = await t.api.call("POST", "/v1/jobs", { ...body, payload: { n: 2 } });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, "job_idempotency_conflict");
    const list = await t.api.call("GET", "/v1/jobs?capability=cap.idem");
    assert.equal(list.body.jobs.length, 1);
  });

  test("retries: transient failures are retried with backoff, then succeed; attempts are recorded", async () => {
    const a = await t.agent({ capabilities: ["cap.retry"] });
    a.startHeartbeats(200);
    await a.connect();
    const job = await t.api.submit({ capability: "cap.retry", maxAttempts: 3, backoffMs: 200 });
    for (const epoch of [1, 2]) {
      const pushed = await a.nextJob();
      assert.equal(pushed.epoch, epoch);
      assert.equal(pushed.attempt, epoch);
      const error = { category: "transient", message: `boom ${epoch}` };
      await a.request({ type: "job:failed", jobId: job.id, epoch, error });
      const requeued = await t.api.get(job.id);
      assert.equal(requeued.status, "queued");
      assert.ok(requeued.runAfter && Date.parse(requeued.runAfter) > Date.parse(requeued.attempts.at(-1)!.endedAt!));
    }
    const last = await a.nextJob();
    await a.request({ type: "job:completed", jobId: job.id, epoch: last.epoch, output: "ok" });
    const done = await t.api.get(job.id);
    assert.equal(done.status, "completed");
    assert.deepEqual(
      done.attempts.map((x) => x.error?.message ?? null),
      ["boom 1", "boom 2", null],
    );
  });

  test("retries: attempts run out, and a fatal error is not retried", async () => {
    const a = await t.agent({ capabilities: ["cap.giveup"] });
    a.startHeartbeats(200);
    await a.connect();
    const job = await t.api.submit({ capability: "cap.giveup", maxAttempts: 1 });
    const p = await a.nextJob();
    await a.request({
      type: "job:failed",
      jobId: job.id,
      epoch: p.epoch,
      error: { category: "transient", message: "x" },
    });
    assert.equal((await t.api.get(job.id)).status, "failed");
    const fatal = await t.api.submit({ capability: "cap.giveup", maxAttempts: 5 });
    const q = await a.nextJob();
    await a.request({
      type: "job:failed",
      jobId: fatal.id,
      epoch: q.epoch,
      error: { category: "fatal", message: "gpu gone" },
    });
    const done = await t.api.get(fatal.id);
    assert.equal(done.status, "failed");
    assert.equal(done.attempts.length, 1);
    const retried = await t.api.call("POST", `/v1/jobs/${fatal.id}/retry`);
    assert.equal(retried.status, 200);
    assert.equal(retried.body.status, "queued");
    const r = await a.nextJob();
    assert.equal(r.id, fatal.id);
    await a.request({ type: "job:completed", jobId: fatal.id, epoch: r.epoch, output: 1 });
    assert.equal((await t.api.get(fatal.id)).status, "completed");
    const notRetryable = await t.api.call("POST", `/v1/jobs/${fatal.id}/retry`);
    assert.equal(notRetryable.status, 409);
  });

  test("lease: a silent agent's job is requeued and completed by another; the late result is refused", async () => {
    const hung = await t.agent({ capabilities: ["cap.lease"] });
    await hung.connect();
    const job = await t.api.submit({ capability: "cap.lease", backoffMs: 0 });
    const first = await hung.nextJob();
    await hung.request({ type: "job:started", jobId: job.id, epoch: first.epoch });
    // No heartbeats: the lease lapses. A healthy agent arrives and gets the job at the next epoch.
    const healthy = await t.agent({ capabilities: ["cap.lease"] });
    healthy.startHeartbeats(200);
    await healthy.connect();
    const second = await healthy.nextJob(10_000);
    assert.equal(second.id, job.id);
    assert.equal(second.epoch, first.epoch + 1);
    await healthy.request({ type: "job:completed", jobId: job.id, epoch: second.epoch, output: "second" });
    // The server closed the silent socket; the hung agent comes back and resends its result.
    await hung.close();
    const welcome = await hung.connect([{ jobId: job.id, epoch: first.epoch }]);
    assert.deepEqual(welcome.type === "welcome" && welcome.drop, [{ jobId: job.id, epoch: first.epoch }]);
    const late = await hung.request({ type: "job:completed", jobId: job.id, epoch: first.epoch, output: "late" });
    assert.equal(late.type === "nack" && late.status, 409);
    const done = await t.api.get(job.id);
    assert.equal(done.output, "second");
    assert.equal(done.attempts[0]!.error?.category, "lease_expired");
  });

  test("disconnect: un-started jobs go back at once without spending an attempt", async () => {
    const leaving = await t.agent({ capabilities: ["cap.disconnect"] });
    await leaving.connect();
    const job = await t.api.submit({ capability: "cap.disconnect", maxAttempts: 1 });
    await leaving.nextJob();
    await leaving.close();
    const other = await t.agent({ capabilities: ["cap.disconnect"] });
    other.startHeartbeats(200);
    await other.connect();
    const again = await other.nextJob();
    assert.equal(again.id, job.id);
    assert.equal(again.attempt, 1);
    await other.request({ type: "job:completed", jobId: job.id, epoch: again.epoch, output: 1 });
    assert.equal((await t.api.get(job.id)).status, "completed");
  });

  test("reconnect: an agent that still runs a job keeps it across a new connection", async () => {
    const a = await t.agent({ capabilities: ["cap.reconnect"] });
    a.startHeartbeats(200);
    await a.connect();
    const job = await t.api.submit({ capability: "cap.reconnect" });
    const p = await a.nextJob();
    await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
    await a.close();
    await sleep(100);
    const welcome = await a.connect([
      { jobId: job.id, epoch: p.epoch },
      { jobId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", epoch: 3 },
    ]);
    a.startHeartbeats(200);
    assert.deepEqual(welcome.type === "welcome" && welcome.drop, [{ jobId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", epoch: 3 }]);
    assert.equal((await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: 7 })).type, "ack");
    assert.equal((await t.api.get(job.id)).output, 7);
  });
});

describe("reconciliation", () => {
  test("a job the agent's heartbeats never list (the push was lost) goes back to the queue", async () => {
    const a = await t.agent({ capabilities: ["cap.lost-push"], capacity: 1, tier: 1 });
    await a.connect();
    const job = await t.api.submit({ capability: "cap.lost-push", maxAttempts: 1 });
    await a.nextJob();
    // Pretend the push never arrived: heartbeat without it.
    a.held.clear();
    a.startHeartbeats(200);
    // A higher tier, so the requeued job goes to this agent rather than back to the first.
    const other = await t.agent({ capabilities: ["cap.lost-push"], capacity: 1, tier: 9 });
    other.startHeartbeats(200);
    await other.connect();
    const again = await other.nextJob(15_000);
    assert.equal(again.id, job.id);
    assert.equal(again.attempt, 1, "a lost push spends no attempt");
    await other.request({ type: "job:completed", jobId: job.id, epoch: again.epoch, output: "ok" });
    assert.equal((await t.api.get(job.id)).status, "completed");
  });
});
