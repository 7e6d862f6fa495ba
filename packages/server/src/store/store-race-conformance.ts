import assert from "node:assert/strict";
import { test } from "node:test";
import type { JobError } from "@gantry/protocol";
import type { AttemptEnd, Store } from "./store.ts";
import { newJob } from "./store-conformance.ts";

/**
 * Races every Store must win: several claimers, sweepers and heartbeats acting on the same rows at
 * once, as replicas sharing one database do. `peers(s, n)` opens n stores on the same data as `s`
 * (separate connections where the backend has them; SQLite's single writer hands back `s`).
 */
export function storeRaceConformance(
  name: string,
  open: () => Promise<Store>,
  peers: (s: Store, n: number) => Promise<Store[]>,
): void {
  const withPeers = (title: string, n: number, fn: (s: Store, ps: Store[]) => Promise<void>) =>
    test(`${name} races: ${title}`, async () => {
      const s = await open();
      const ps = await peers(s, n);
      try {
        await fn(s, ps);
      } finally {
        for (const p of ps) if (p !== s) await p.close();
        await s.close();
      }
    });
  const lapsed = (error: JobError): AttemptEnd => ({ next: "queued", runAfter: 0, error, countsAsAttempt: true });

  withPeers("concurrent claimers take every job exactly once", 6, async (s, ps) => {
    const jobs = Array.from({ length: 60 }, () => newJob({ capability: "race.claim" }));
    await s.insertJobs(jobs);
    const now = Date.now();
    const claimed = await Promise.all(
      ps.map(async (p, i) => {
        const mine: string[] = [];
        for (;;) {
          const got = await p.claimJobs("race.claim", [`A${i}`, `A${i}`, `A${i}`], now, now + 60_000);
          if (got.length === 0) return mine;
          mine.push(...got.map((j) => j.id));
        }
      }),
    );
    const all = claimed.flat();
    assert.equal(all.length, 60, "no job claimed twice, none left");
    assert.equal(new Set(all).size, 60);
    const attempts = await s.getAttempts(jobs.map((j) => j.id));
    for (const j of jobs) assert.equal(attempts.get(j.id)?.length, 1, `one attempt for ${j.id}`);
  });

  withPeers("racing lease sweeps end each lapsed attempt once", 4, async (s, ps) => {
    const jobs = Array.from({ length: 30 }, () => newJob({ capability: "race.lease" }));
    await s.insertJobs(jobs);
    const now = Date.now();
    await s.claimJobs("race.lease", Array(30).fill("A"), now, now + 10);
    const error: JobError = { category: "lease_expired", message: "x" };
    const ended = (await Promise.all(ps.map((p) => p.expireLeases(now + 100, 100, () => lapsed(error))))).flat();
    assert.equal(ended.length, 30);
    assert.equal(new Set(ended.map((e) => e.job.id)).size, 30);
    for (const j of jobs) assert.equal((await s.getJob(j.id))!.status, "queued");
  });

  withPeers("racing deadline sweeps fail each overdue job once", 4, async (s, ps) => {
    const t = Date.now();
    const jobs = Array.from({ length: 30 }, () =>
      newJob({ capability: "race.deadline", timeoutSecs: 1, createdAt: t }),
    );
    await s.insertJobs(jobs);
    await s.claimJobs("race.deadline", Array(10).fill("A"), t, t + 60_000);
    const ended = (await Promise.all(ps.map((p) => p.failOverdueJobs(t + 2000, 100)))).flat();
    assert.equal(ended.length, 30);
    assert.equal(new Set(ended.map((e) => e.job.id)).size, 30);
    assert.equal(ended.filter((e) => e.heldBy !== null).length, 10);
  });

  withPeers("a heartbeat racing the lease sweep: exactly one wins each job", 2, async (s, ps) => {
    const jobs = Array.from({ length: 20 }, () => newJob({ capability: "race.hb" }));
    await s.insertJobs(jobs);
    const now = Date.now();
    await s.claimJobs("race.hb", Array(20).fill("A"), now, now + 100);
    const listed = jobs.map((j) => ({ jobId: j.id, epoch: 1 }));
    const error: JobError = { category: "lease_expired", message: "x" };
    // The heartbeat arrives at now+100 (lease not yet lapsed); the sweep runs at now+101.
    const [renewal, ended] = await Promise.all([
      ps[0]!.renewLeases("A", listed, now + 100, now + 60_000, 0),
      ps[1]!.expireLeases(now + 101, 100, () => lapsed(error)),
    ]);
    const dropped = new Set(renewal.drop.map((h) => h.jobId));
    const expired = new Set(ended.map((e) => e.job.id));
    for (const j of jobs) {
      const status = (await s.getJob(j.id))!.status;
      assert.ok(dropped.has(j.id) === expired.has(j.id), `${j.id}: dropped iff expired`);
      assert.equal(status, expired.has(j.id) ? "queued" : "assigned");
    }
  });

  withPeers("a completion racing a failure and an expiry of the same attempt: one wins", 3, async (s, ps) => {
    const jobs = Array.from({ length: 15 }, () => newJob({ capability: "race.end" }));
    await s.insertJobs(jobs);
    const now = Date.now();
    await s.claimJobs("race.end", Array(15).fill("A"), now, now + 10);
    const error: JobError = { category: "transient", message: "x" };
    const [completes, fails, ended] = await Promise.all([
      Promise.all(jobs.map((j) => ps[0]!.completeAttempt(j.id, "A", 1, { ok: 1 }, [], now + 50))),
      Promise.all(jobs.map((j) => ps[1]!.endAttempt(j.id, "A", 1, () => lapsed(error), now + 50))),
      ps[2]!.expireLeases(now + 50, 100, () => lapsed(error)),
    ]);
    for (const [i, j] of jobs.entries()) {
      const wins =
        Number(completes[i]!.kind === "ok") +
        Number(fails[i]!.kind === "ok") +
        Number(ended.some((e) => e.job.id === j.id));
      assert.equal(wins, 1, `${j.id}: exactly one end applied`);
    }
  });

  withPeers("endAttempt decides on the row as it stands: a cancel requested meanwhile wins", 2, async (s, ps) => {
    const j = newJob({ capability: "race.decide", maxAttempts: 5 });
    await s.insertJobs([j]);
    const now = Date.now();
    await s.claimJobs("race.decide", ["A"], now, now + 60_000);
    await ps[0]!.requestCancel(j.id, now + 1);
    const out = await ps[1]!.endAttempt(
      j.id,
      "A",
      1,
      (job) =>
        job.cancelRequestedAt !== null
          ? { next: "cancelled", error: null }
          : lapsed({ category: "transient", message: "x" }),
      now + 2,
    );
    assert.equal(out.kind, "ok");
    assert.equal((await s.getJob(j.id))!.status, "cancelled");
  });

  withPeers("an agent's messages about a job, issued together, apply in order", 1, async (s) => {
    const jobs = Array.from({ length: 20 }, () => newJob({ capability: "race.order" }));
    await s.insertJobs(jobs);
    const now = Date.now();
    await s.claimJobs("race.order", Array(20).fill("A"), now, now + 60_000);
    const outs = await Promise.all(
      jobs.flatMap((j) => [
        s.markStarted(j.id, "A", 1, now),
        s.appendLogs(j.id, "A", 1, [{ stream: "stdout", line: "x" }], now).then((r) => r.outcome),
        s.completeAttempt(j.id, "A", 1, { ok: 1 }, [], now),
      ]),
    );
    assert.deepEqual(new Set(outs.map((o) => o.kind)), new Set(["ok"]));
  });

  withPeers("the same idempotency key submitted at once creates one job", 4, async (_s, ps) => {
    const outs = await Promise.all(
      ps.map((p) => p.insertJobs([newJob({ capability: "race.idem", idempotencyKey: "k", requestHash: "h" })])),
    );
    const created = outs.flat().filter((o) => o.created);
    assert.equal(created.length, 1);
    assert.equal(new Set(outs.flat().map((o) => o.job.id)).size, 1);
  });

  withPeers("racing cancel and retry apply once each, in order", 3, async (s, ps) => {
    const j = newJob({ capability: "race.retry" });
    await s.insertJobs([j]);
    const cancels = await Promise.all(ps.map((p) => p.requestCancel(j.id, Date.now())));
    assert.ok(cancels.every((c) => c!.status === "cancelled"));
    const retries = await Promise.all(ps.map((p) => p.retryJob(j.id, Date.now())));
    assert.ok(retries.every((r) => r!.status === "queued"));
    assert.equal((await s.getJob(j.id))!.status, "queued");
  });
}
