import type { HeldJob } from "@gantry/protocol";
import type Database from "better-sqlite3";
import type { AttemptEnd, FenceOutcome, JobRecord, LeaseRenewal } from "../store.ts";
import type { GroupCommit } from "./group-commit.ts";
import { type JobRow, jobFromRow } from "./rows.ts";

const HELD = "status IN ('assigned','running')";

/**
 * The lease verbs of the SQLite store: heartbeat renewal, expiry, and the post-restart extension.
 * Each one decides inside its own statement, so a renewal and an expiry racing each other cannot
 * both win.
 */
export class SqliteLeases {
  readonly #gc: GroupCommit;
  readonly #s;

  constructor(db: Database.Database, gc: GroupCommit) {
    this.#gc = gc;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      // Contract: renews exactly the listed jobs that this agent still holds at the listed epoch and
      // whose lease has not lapsed (a lapsed lease belongs to the sweeper). Rows: the listed ones, by
      // primary key. Returns the renewed (id, epoch).
      renew: p(`UPDATE jobs SET lease_expires_at = @lease
        WHERE id IN (SELECT json_extract(value, '$.jobId') FROM json_each(@held))
        AND (id, epoch) IN (SELECT json_extract(value, '$.jobId'), json_extract(value, '$.epoch') FROM json_each(@held))
        AND agent_id = @agent AND ${HELD} AND lease_expires_at >= @now
        RETURNING id, epoch`),
      // Held jobs of the agent unchanged since @quiet (reads jobs_held_by_agent).
      quiet: p(`SELECT * FROM jobs WHERE agent_id = ? AND ${HELD} AND updated_at < ?`),
      held: p(`SELECT * FROM jobs WHERE agent_id = ? AND ${HELD}`),
      expired: p(`SELECT * FROM jobs WHERE lease_expires_at < ? AND ${HELD} ORDER BY lease_expires_at LIMIT ?`),
      // Contract for the two expiries: one row, only if still held by this agent at this epoch AND its
      // lease still lapsed at @now, so a heartbeat that renewed it a moment earlier wins.
      // agent_id = NULL on requeue, as in sqlite-jobs: a queued job is held by no one.
      expireRequeue: p(`UPDATE jobs SET status = 'queued', error = @error, agent_id = NULL, lease_expires_at = NULL,
        run_after = @runAfter, attempts_used = attempts_used - @refund, updated_at = @now
        WHERE id = @id AND agent_id = @agent AND epoch = @epoch AND ${HELD} AND lease_expires_at < @now
        RETURNING *`),
      expireFinish: p(`UPDATE jobs SET status = @status, error = @error, lease_expires_at = NULL,
        cancel_requested_at = NULL, ended_at = @now, updated_at = @now
        WHERE id = @id AND agent_id = @agent AND epoch = @epoch AND ${HELD} AND lease_expires_at < @now
        RETURNING *`),
      attemptEnd: p(
        "UPDATE job_attempts SET ended_at = ?, error = ? WHERE job_id = ? AND epoch = ? AND ended_at IS NULL",
      ),
      get: p("SELECT * FROM jobs WHERE id = ?"),
      extendAll: p(`UPDATE jobs SET lease_expires_at = MAX(lease_expires_at, ?) WHERE ${HELD}`),
    };
  }

  renewLeases(
    agentId: string,
    listed: HeldJob[],
    now: number,
    leaseExpiresAt: number,
    quietBefore: number,
  ): Promise<LeaseRenewal> {
    const outcome = (renewed: Set<string>): LeaseRenewal => {
      const listedKeys = new Set(listed.map((h) => `${h.jobId}@${h.epoch}`));
      const unlisted = (this.#s.quiet.all(agentId, quietBefore) as JobRow[])
        .filter((r) => !listedKeys.has(`${r.id}@${r.epoch}`))
        .map(jobFromRow);
      return { drop: listed.filter((h) => !renewed.has(`${h.jobId}@${h.epoch}`)), unlisted };
    };
    // Most heartbeats come from idle agents: nothing listed, nothing to write (and no fsync).
    if (listed.length === 0) return Promise.resolve(outcome(new Set()));
    return this.#gc.write(() => {
      const rows = this.#s.renew.all({
        held: JSON.stringify(listed),
        agent: agentId,
        now,
        lease: leaseExpiresAt,
      }) as Array<{ id: string; epoch: number }>;
      return outcome(new Set(rows.map((r) => `${r.id}@${r.epoch}`)));
    });
  }

  expireLease(jobId: string, agentId: string, epoch: number, end: AttemptEnd, now: number): Promise<FenceOutcome> {
    return this.#gc.write((): FenceOutcome => {
      const error = end.error ? JSON.stringify(end.error) : null;
      const fence = { id: jobId, agent: agentId, epoch, now, error };
      const row = (
        end.next === "queued"
          ? this.#s.expireRequeue.get({ ...fence, runAfter: end.runAfter, refund: end.countsAsAttempt ? 0 : 1 })
          : this.#s.expireFinish.get({ ...fence, status: end.next })
      ) as JobRow | undefined;
      if (row) {
        this.#s.attemptEnd.run(now, error, jobId, epoch);
        return { kind: "ok", job: jobFromRow(row) };
      }
      const current = this.#s.get.get(jobId) as JobRow | undefined;
      return current ? { kind: "stale", job: jobFromRow(current) } : { kind: "missing" };
    });
  }

  heldJobs(agentId: string): Promise<JobRecord[]> {
    return Promise.resolve((this.#s.held.all(agentId) as JobRow[]).map(jobFromRow));
  }

  expiredLeases(now: number, limit: number): Promise<JobRecord[]> {
    return Promise.resolve((this.#s.expired.all(now, limit) as JobRow[]).map(jobFromRow));
  }

  extendAllLeases(leaseExpiresAt: number): Promise<void> {
    return this.#gc.write(() => {
      this.#s.extendAll.run(leaseExpiresAt);
    });
  }
}
