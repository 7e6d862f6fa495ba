import assert from "node:assert/strict";
import { test } from "node:test";
import { monotonicFactory } from "ulid";
import { IdempotencyConflict, type NewJob, type Store } from "./store.ts";

const nextId = monotonicFactory();

export function newJob(over: Partial<NewJob> = {}): NewJob {
  const now = over.createdAt ?? Date.now();
  return {
    id: nextId(now),
    capability: "conf.cap",
    capabilityFull: "conf.cap",
    payload: { a: 1 },
    inputs: [],
    priority: 0,
    owner: "owner-1",
    idempotencyKey: null,
    requestHash: null,
    timeoutSecs: null,
    maxWaitSecs: null,
    runtimeSecs: null,
    maxAttempts: 3,
    backoffMs: 1000,
    createdAt: now,
    ...over,
  };
}

/**
 * The behaviour every Store must have, whatever its backend. Each implementation's test file calls
 * this with a factory for a fresh, empty store.
 */
export function storeConformance(name: string, open: () => Promise<Store>): void {
  const withStore = (title: string, fn: (s: Store) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });

  withStore("insert and get round-trip every field", async (s) => {
    const j = newJob({ payload: { deep: [1, { x: "y" }] }, priority: 4, timeoutSecs: 9, runtimeSecs: 3 });
    const [out] = await s.insertJobs([j]);
    assert.equal(out!.created, true);
    const got = (await s.getJob(j.id))!;
    assert.deepEqual(got.payload, j.payload);
    assert.equal(got.status, "queued");
    assert.equal(got.epoch, 0);
    assert.equal(got.priority, 4);
    assert.equal(got.timeoutSecs, 9);
    assert.equal(await s.getJob("01ARZ3NDEKTSV4RRFFQ69G5FAV"), undefined);
  });

  withStore("idempotency: a replay returns the existing job; another request under the key rolls back", async (s) => {
    const a = newJob({ idempotencyKey: "k", requestHash: "h1" });
    await s.insertJobs([a]);
    const [replay] = await s.insertJobs([newJob({ idempotencyKey: "k", requestHash: "h1" })]);
    assert.equal(replay!.created, false);
    assert.equal(replay!.job.id, a.id);
    const other = newJob();
    await assert.rejects(
      s.insertJobs([other, newJob({ idempotencyKey: "k", requestHash: "h2" })]),
      IdempotencyConflict,
    );
    assert.equal(await s.getJob(other.id), undefined, "the whole call rolled back");
  });

  withStore("claim: priority desc then age; assigns slot by slot; epoch and attempts rise", async (s) => {
    const t = Date.now();
    const low = newJob({ priority: 0, createdAt: t });
    const high = newJob({ priority: 9, createdAt: t + 1 });
    const other = newJob({ capability: "conf.other", createdAt: t + 2 });
    const delayed = newJob({ priority: 10, createdAt: t + 3 });
    await s.insertJobs([low, high, other, delayed]);
    // Delay the top job: claim it, then requeue it with a runAfter in the future.
    const [d] = await s.claimJobs("conf.cap", ["Z"], t, t + 1000);
    assert.equal(d!.id, delayed.id);
    const error = { category: "transient" as const, message: "x" };
    await s.endAttempt(delayed.id, "Z", 1, { next: "queued", runAfter: t + 60_000, error, countsAsAttempt: true }, t);
    const claimed = await s.claimJobs("conf.cap", ["A", "B", "A"], t + 10, t + 1000);
    assert.deepEqual(
      claimed.map((j) => [j.id, j.agentId, j.epoch, j.status]),
      [
        [high.id, "A", 1, "assigned"],
        [low.id, "B", 1, "assigned"],
      ],
    );
    assert.deepEqual(await s.claimJobs("conf.cap", ["A"], t + 10, t + 1000), [], "nothing eligible is left");
    assert.equal((await s.heldJobs("A")).length, 1);
    assert.deepEqual([...(await s.heldCounts())].sort(), [
      ["A", 1],
      ["B", 1],
    ]);
    const attempts = await s.getAttempts([high.id]);
    assert.deepEqual(
      attempts.get(high.id)!.map((a) => [a.n, a.epoch, a.agentId]),
      [[1, 1, "A"]],
    );
  });

  withStore("fencing: ok, duplicate, stale and missing", async (s) => {
    const j = newJob();
    await s.insertJobs([j]);
    const now = Date.now();
    const [c] = await s.claimJobs("conf.cap", ["A"], now, now + 1000);
    assert.equal((await s.markStarted(j.id, "A", c!.epoch, now)).kind, "ok");
    assert.equal((await s.markStarted(j.id, "A", c!.epoch, now)).kind, "duplicate");
    assert.equal((await s.markStarted(j.id, "B", c!.epoch, now)).kind, "stale");
    assert.equal((await s.completeAttempt(j.id, "A", c!.epoch + 1, 1, [], now)).kind, "stale");
    assert.equal((await s.completeAttempt(j.id, "A", c!.epoch, { r: 1 }, [], now)).kind, "ok");
    assert.equal((await s.completeAttempt(j.id, "A", c!.epoch, { r: 2 }, [], now)).kind, "duplicate");
    assert.deepEqual((await s.getJob(j.id))!.output, { r: 1 });
    assert.equal((await s.completeAttempt("01ARZ3NDEKTSV4RRFFQ69G5FAV", "A", 1, 1, [], now)).kind, "missing");
  });

  withStore(
    "ending attempts: requeue with backoff, fail, cancel; a resend of the same failure is a duplicate",
    async (s) => {
      const j = newJob();
      await s.insertJobs([j]);
      const now = Date.now();
      const [c] = await s.claimJobs("conf.cap", ["A"], now, now + 1000);
      const error = { category: "transient" as const, message: "x" };
      const end = { next: "queued" as const, runAfter: now + 500, error, countsAsAttempt: true };
      assert.equal((await s.endAttempt(j.id, "A", c!.epoch, end, now)).kind, "ok");
      assert.equal((await s.endAttempt(j.id, "A", c!.epoch, end, now)).kind, "duplicate");
      const q = (await s.getJob(j.id))!;
      assert.equal(q.status, "queued");
      assert.equal(q.runAfter, now + 500);
      assert.equal(q.attemptsUsed, 1);
      const [c2] = await s.claimJobs("conf.cap", ["B"], now + 600, now + 2000);
      assert.equal(c2!.epoch, 2);
      await s.endAttempt(j.id, "B", 2, { next: "failed", error }, now);
      assert.equal((await s.getJob(j.id))!.status, "failed");
      const r = (await s.retryJob(j.id, now))!;
      assert.equal(r.status, "queued");
      assert.equal(r.attemptsUsed, 0);
    },
  );

  withStore("cancel: queued at once; held jobs get a flag", async (s) => {
    const a = newJob();
    const b = newJob();
    await s.insertJobs([a, b]);
    assert.equal((await s.requestCancel(a.id, Date.now()))!.status, "cancelled");
    const now = Date.now();
    await s.claimJobs("conf.cap", ["A"], now, now + 1000);
    const flagged = (await s.requestCancel(b.id, now))!;
    assert.equal(flagged.status, "assigned");
    assert.equal(flagged.cancelRequestedAt, now);
  });

  withStore("leases: renewal, expiry, and the restart grace only when no other replica is alive", async (s) => {
    const j = newJob();
    await s.insertJobs([j]);
    const now = Date.now();
    await s.claimJobs("conf.cap", ["A"], now, now + 100);
    await s.renewLeases("A", [{ jobId: j.id, epoch: 1 }], now + 50, now + 300, now - 1000);
    assert.deepEqual(await s.expireLeases(now + 200, 10, requeueNow(now + 200)), [], "renewed: not lapsed");
    await s.replicaAlive("r1", now, 2000, null);
    assert.equal(await s.replicaAlive("r2", now + 10, 2000, { leaseExpiresAt: now + 5000 }), 0, "r1 is alive");
    assert.equal((await s.getJob(j.id))!.leaseExpiresAt, now + 300);
    assert.equal(await s.replicaAlive("r1", now + 20, 2000, { leaseExpiresAt: now + 5000 }), 0, "r2 is alive");
    assert.deepEqual(await s.liveReplicas(now + 5), ["r1", "r2"]);
    assert.deepEqual(await s.liveReplicas(now + 15), ["r1"]);
    // r1 restarts after both were silent: the whole service was down.
    assert.equal(await s.replicaAlive("r1", now + 9000, 2000, { leaseExpiresAt: now + 15_000 }), 1);
    assert.equal((await s.getJob(j.id))!.leaseExpiresAt, now + 15_000);
  });

  withStore("leases: a heartbeat renews only what it lists, at its epoch, and names the rest", async (s) => {
    const [listed, unlisted, other] = [newJob(), newJob(), newJob()];
    await s.insertJobs([listed, unlisted, other]);
    const now = Date.now();
    await s.claimJobs("conf.cap", ["A", "A", "B"], now, now + 100);
    const r = await s.renewLeases(
      "A",
      [
        { jobId: listed.id, epoch: 1 },
        { jobId: other.id, epoch: 1 }, // B's job
        { jobId: unlisted.id, epoch: 7 }, // wrong epoch
      ],
      now + 50,
      now + 1000,
      now + 51,
    );
    assert.deepEqual(r.drop.map((h) => h.jobId).sort(), [other.id, unlisted.id].sort());
    assert.deepEqual(
      r.unlisted.map((x) => x.id),
      [unlisted.id],
    );
    assert.equal((await s.getJob(listed.id))!.leaseExpiresAt, now + 1000);
    assert.equal((await s.getJob(unlisted.id))!.leaseExpiresAt, now + 100);
    assert.equal((await s.getJob(other.id))!.leaseExpiresAt, now + 100);
    // A lapsed lease is the sweeper's: a late heartbeat does not revive it.
    const late = await s.renewLeases("A", [{ jobId: unlisted.id, epoch: 1 }], now + 200, now + 2000, 0);
    assert.deepEqual(late.drop, [{ jobId: unlisted.id, epoch: 1 }]);
  });

  withStore("leases: expiry applies only while the lease is still lapsed", async (s) => {
    const j = newJob();
    await s.insertJobs([j]);
    const now = Date.now();
    await s.claimJobs("conf.cap", ["A"], now, now + 100);
    const error = { category: "lease_expired" as const, message: "x" };
    const end = { next: "queued", runAfter: now, error, countsAsAttempt: true } as const;
    // A heartbeat renewed it before the sweep ran: nothing lapsed at now+200.
    await s.renewLeases("A", [{ jobId: j.id, epoch: 1 }], now + 50, now + 1000, 0);
    assert.deepEqual(await s.expireLeases(now + 200, 10, () => end), []);
    assert.equal((await s.getJob(j.id))!.status, "assigned");
    const out = await s.expireLeases(now + 2000, 10, () => end);
    assert.deepEqual(
      out.map((e) => [e.job.id, e.agentId, e.epoch, e.job.status]),
      [[j.id, "A", 1, "queued"]],
    );
    assert.equal((await s.getJob(j.id))!.status, "queued");
  });

  withStore("deadlines: timeoutSecs and never-picked-up maxWaitSecs", async (s) => {
    const t = Date.now();
    const timed = newJob({ timeoutSecs: 1, createdAt: t });
    const waiting = newJob({ maxWaitSecs: 2, createdAt: t });
    const free = newJob({ createdAt: t });
    await s.insertJobs([timed, waiting, free]);
    await s.claimJobs("conf.cap", ["A"], t, t + 60_000); // timed: held by A
    assert.deepEqual(await s.failOverdueJobs(t + 500, 10), []);
    const first = await s.failOverdueJobs(t + 1500, 10);
    assert.deepEqual(
      first.map((d) => [d.job.id, d.job.status, d.job.error?.code, d.heldBy]),
      [[timed.id, "failed", "timeout", { agentId: "A", epoch: 1 }]],
    );
    assert.equal(first[0]!.job.error?.message, "not finished within timeoutSecs=1");
    const second = await s.failOverdueJobs(t + 2500, 10);
    assert.deepEqual(
      second.map((d) => [d.job.id, d.job.error?.code, d.heldBy]),
      [[waiting.id, "max_wait", null]],
    );
    assert.equal((await s.getAttempts([timed.id])).get(timed.id)![0]!.endedAt, t + 1500, "the attempt ended too");
    assert.equal((await s.getJob(free.id))!.status, "queued");
  });

  withStore("logs: numbered in order, only for the holder", async (s) => {
    const j = newJob();
    await s.insertJobs([j]);
    const now = Date.now();
    const [c] = await s.claimJobs("conf.cap", ["A"], now, now + 1000);
    const lines = [
      { stream: "stdout" as const, line: "a" },
      { stream: "stderr" as const, line: "b" },
    ];
    const r1 = await s.appendLogs(j.id, "A", c!.epoch, lines, now);
    const r2 = await s.appendLogs(j.id, "A", c!.epoch, [{ stream: "stdout", line: "c" }], now);
    assert.deepEqual(
      [...r1.records, ...r2.records].map((r) => r.seq),
      [1, 2, 3],
    );
    assert.equal((await s.appendLogs(j.id, "B", c!.epoch, lines, now)).outcome.kind, "stale");
    assert.deepEqual(
      (await s.getLogs(j.id, 1, 10)).map((l) => l.line),
      ["b", "c"],
    );
  });

  withStore("listing: filters and id cursor, newest first", async (s) => {
    const jobs = [newJob(), newJob({ owner: "owner-2" }), newJob(), newJob({ capability: "conf.x" })];
    await s.insertJobs(jobs);
    const mine = await s.listJobs({
      owner: "owner-1",
      statuses: ["queued"],
      capability: null,
      beforeId: null,
      limit: 10,
    });
    assert.deepEqual(
      mine.map((j) => j.id),
      [jobs[3]!.id, jobs[2]!.id, jobs[0]!.id],
    );
    const page2 = await s.listJobs({
      owner: null,
      statuses: null,
      capability: "conf.cap",
      beforeId: jobs[2]!.id,
      limit: 10,
    });
    assert.deepEqual(
      page2.map((j) => j.id),
      [jobs[1]!.id, jobs[0]!.id],
    );
  });

  withStore("listing by several statuses: merged newest first, each status read page-bounded", async (s) => {
    const t = Date.now();
    const jobs = Array.from({ length: 6 }, (_, i) => newJob({ createdAt: t + i }));
    await s.insertJobs(jobs);
    // 0 and 2 assigned, 1 running, the rest queued.
    await s.claimJobs("conf.cap", ["A", "B", "C"], t, t + 60_000);
    await s.markStarted(jobs[1]!.id, "B", 1, t);
    const f = { owner: "owner-1", capability: null, beforeId: null, limit: 3 };
    const page = await s.listJobs({ ...f, statuses: ["running", "queued", "queued"] });
    assert.deepEqual(
      page.map((j) => j.id),
      [jobs[5]!.id, jobs[4]!.id, jobs[3]!.id],
      "newest first across statuses, each id once",
    );
    const held = await s.listJobs({ ...f, statuses: ["assigned", "running"], limit: 10 });
    assert.deepEqual(
      held.map((j) => j.id),
      [jobs[2]!.id, jobs[1]!.id, jobs[0]!.id],
    );
    const next = await s.listJobs({ ...f, statuses: ["assigned", "running"], beforeId: jobs[1]!.id, limit: 10 });
    assert.deepEqual(
      next.map((j) => j.id),
      [jobs[0]!.id],
    );
    const byCap = await s.listJobs({ ...f, owner: null, statuses: ["queued"], capability: "conf.cap", limit: 10 });
    assert.deepEqual(
      byCap.map((j) => j.id),
      [jobs[5]!.id, jobs[4]!.id, jobs[3]!.id],
    );
  });

  withStore("job counters follow every insert, status change and delete; oldest queued", async (s) => {
    const counts = async (owner: string | null) => {
      const out: Record<string, number> = {};
      for (const c of await s.jobCounts(owner)) out[`${c.capability}/${c.status}`] = c.n;
      return out;
    };
    assert.deepEqual(await counts(null), {});
    assert.equal(await s.oldestQueuedAt(null, null), null);
    const t = Date.now() - 10_000;
    const a = newJob({ createdAt: t });
    const b = newJob({ createdAt: t + 1, capability: "conf.other" });
    const c = newJob({ createdAt: t + 2, owner: "owner-2" });
    const d = newJob({ createdAt: t + 3, timeoutSecs: 1 });
    await s.insertJobs([a, b, c, d]);
    // A replayed idempotent insert adds nothing.
    await s.insertJobs([newJob({ idempotencyKey: "k", requestHash: "h", createdAt: t + 4 })]);
    await s.insertJobs([newJob({ idempotencyKey: "k", requestHash: "h", createdAt: t + 5 })]);
    assert.deepEqual(await counts(null), { "conf.cap/queued": 4, "conf.other/queued": 1 });
    assert.deepEqual(await counts("owner-2"), { "conf.cap/queued": 1 });
    assert.equal(await s.oldestQueuedAt(null, null), t);
    assert.equal(await s.oldestQueuedAt("owner-2", null), t + 2);
    assert.equal(await s.oldestQueuedAt(null, ["conf.other"]), t + 1);
    assert.equal(await s.oldestQueuedAt("owner-2", ["conf.other"]), null);

    await s.compactJobCounts(); // folded and unfolded changes must read the same
    const [ca] = await s.claimJobs("conf.cap", ["A"], t + 10, t + 60_000); // a
    await s.markStarted(ca!.id, "A", ca!.epoch, t + 11);
    await s.completeAttempt(ca!.id, "A", ca!.epoch, { ok: 1 }, [], t + 12);
    await s.requestCancel(b.id, t + 13);
    await s.setProgress(ca!.id, "A", ca!.epoch, { percent: 5 }, t + 14); // refused: changes nothing
    assert.deepEqual(await counts(null), {
      "conf.cap/queued": 3,
      "conf.cap/completed": 1,
      "conf.other/cancelled": 1,
    });
    assert.equal(await s.oldestQueuedAt(null, null), t + 2);
    assert.equal(await s.oldestQueuedAt("owner-1", null), t + 3);
    await s.compactJobCounts();
    await s.compactJobCounts();
    // d passes its deadline; the cancelled b is retried.
    await s.failOverdueJobs(t + 3 + 1500, 10);
    await s.retryJob(b.id, t + 20);
    assert.deepEqual(await counts("owner-1"), {
      "conf.cap/queued": 1,
      "conf.cap/completed": 1,
      "conf.cap/failed": 1,
      "conf.other/queued": 1,
    });
    // Retention deletes finished jobs, and their counts with them.
    await s.finishJob(b.id, "cancelled", null, t + 21);
    while ((await s.deleteFinishedBefore(Date.now() + 1, 100)).jobs > 0);
    await s.compactJobCounts();
    assert.deepEqual(await counts(null), { "conf.cap/queued": 2 });
    assert.deepEqual(await counts("owner-3"), {});
  });

  withStore("a requeued job names no agent; a completed job does not carry an earlier attempt's error", async (s) => {
    const t = Date.now();
    const j = newJob({ createdAt: t });
    await s.insertJobs([j]);
    await s.claimJobs("conf.cap", ["A"], t, t + 1000);
    const error = { category: "lease_expired" as const, message: "agent A went silent" };
    await s.endAttempt(j.id, "A", 1, { next: "queued", runAfter: t, error, countsAsAttempt: true }, t);
    const requeued = (await s.getJob(j.id))!;
    assert.equal(requeued.status, "queued");
    assert.equal(requeued.agentId, null);
    await s.claimJobs("conf.cap", ["B"], t + 1, t + 1000);
    assert.equal((await s.completeAttempt(j.id, "B", 2, { ok: true }, [], t + 2)).kind, "ok");
    const done = (await s.getJob(j.id))!;
    assert.equal(done.status, "completed");
    assert.equal(done.error, null);
    assert.deepEqual(
      (await s.getAttempts([j.id])).get(j.id)!.map((a) => [a.agentId, a.error?.category ?? null]),
      [
        ["A", "lease_expired"],
        ["B", null],
      ],
    );
  });

  withStore(
    "agent state: a null keeps the stored value; several updates in one turn keep the latest of each",
    async (s) => {
      const agent = (id: string) => ({
        id,
        name: null,
        displayName: null,
        keyHash: `hash-${id}`,
        enrolmentKeyId: null,
        capabilities: ["conf.cap"],
        tier: 0,
        capacity: 1,
        systemInfo: {},
        status: null,
        metrics: null,
        health: null,
        registeredAt: 1,
        lastSeenAt: null,
        revokedAt: null,
      });
      await s.insertAgent(agent("a1"));
      await s.insertAgent(agent("a2"));
      const health = { healthy: true, issues: [], warnings: [] };
      await s.updateAgentState("a1", { status: "idle", metrics: { cpuPercent: 1 }, health, lastSeenAt: 10 });
      // One turn: a1 twice (the second keeps the first's health), a2 once.
      await Promise.all([
        s.updateAgentState("a1", {
          status: "busy",
          metrics: { cpuPercent: 2, loadedModels: ["llm.a"] },
          lastSeenAt: 20,
        }),
        s.updateAgentState("a2", { status: "idle", lastSeenAt: 21 }),
        s.updateAgentState("a1", { metrics: { cpuPercent: 3, loadedModels: ["llm.b"] }, lastSeenAt: 30 }),
      ]);
      const a1 = (await s.getAgent("a1"))!;
      assert.equal(a1.status, "busy");
      assert.deepEqual(a1.metrics, { cpuPercent: 3, loadedModels: ["llm.b"] });
      assert.deepEqual(a1.health, health);
      assert.equal(a1.lastSeenAt, 30);
      const a2 = (await s.getAgent("a2"))!;
      assert.equal(a2.status, "idle");
      assert.equal(a2.metrics, null);
      assert.equal(a2.lastSeenAt, 21);
    },
  );

  withStore(
    "retention deletes finished jobs past the cutoff, with logs and attempts, `limit` rows a statement",
    async (s) => {
      const t = Date.now() - 10_000;
      const finished = Array.from({ length: 5 }, (_, i) => newJob({ createdAt: t + i }));
      const young = newJob({ createdAt: t + 10 });
      const queued = newJob({ createdAt: t + 11 });
      await s.insertJobs([...finished, young, queued]);
      for (const j of [...finished, young]) {
        await s.claimJobs("conf.cap", ["A"], t, t + 60_000);
        const lines = [
          { stream: "stdout" as const, line: "a" },
          { stream: "stdout" as const, line: "b" },
        ];
        await s.appendLogs(j.id, "A", 1, lines, t);
      }
      for (const j of finished) await s.completeAttempt(j.id, "A", 1, null, [], t + 100);
      await s.completeAttempt(young.id, "A", 1, null, [], t + 5_000);
      const cutoff = t + 1_000;
      // 5 jobs × 2 log lines: logs go 3 at a time, and the jobs once their logs are all gone.
      let logs = 0;
      let jobs = 0;
      for (let i = 0; i < 20; i++) {
        const step = await s.deleteFinishedBefore(cutoff, 3);
        assert.ok(step.logs <= 3 && step.jobs <= 3, JSON.stringify(step));
        logs += step.logs;
        jobs += step.jobs;
        if (step.logs < 3 && step.jobs < 3) break;
      }
      assert.deepEqual({ logs, jobs }, { logs: 10, jobs: 5 });
      for (const j of finished) {
        assert.equal(await s.getJob(j.id), undefined);
        assert.deepEqual(await s.getLogs(j.id, 0, 10), []);
      }
      assert.equal((await s.getAttempts(finished.map((j) => j.id))).size, 0);
      assert.equal((await s.getJob(young.id))?.status, "completed");
      assert.equal((await s.getLogs(young.id, 0, 10)).length, 2);
      assert.equal((await s.getJob(queued.id))?.status, "queued");
    },
  );
}

/** A lease-expiry policy for tests: back to the queue at once. */
function requeueNow(now: number) {
  return () => ({
    next: "queued" as const,
    runAfter: now,
    error: { category: "lease_expired" as const, message: "x" },
    countsAsAttempt: true,
  });
}
