import type { HeldJob } from "@gantry/protocol";
import type Database from "better-sqlite3";
import type { DecideEnd, EndedAttempt, JobRecord, LeaseRenewal } from "../store.ts";
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
      quiet: p(`SELECT * FROM jobs INDEXED BY jobs_held_by_agent WHERE agent_id = ? AND ${HELD} AND updated_at < ?`),
      held: p(`SELECT * FROM jobs INDEXED BY jobs_held_by_agent WHERE agent_id = ? AND ${HELD}`),
      heldCounts: p(
        `SELECT agent_id, COUNT(*) AS n FROM jobs INDEXED BY jobs_held_by_agent WHERE ${HELD} GROUP BY agent_id`,
      ),
      // Read inside the sweep's write (see expireLeases), walking jobs_lease.
      expired: p(
        `SELECT * FROM jobs INDEXED BY jobs_lease WHERE lease_expires_at < ? AND ${HELD} ORDER BY lease_expires_at LIMIT ?`,
      ),
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
      live: p("SELECT id FROM replicas WHERE seen_at >= ? ORDER BY id"),
      replicaSeen: p(`INSERT INTO replicas (id, seen_at) VALUES (?, ?)
        ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`),
      // Contract: extends every held lease, only if no other replica was seen since @since (decided in
      // the statement: a replica restarting among live ones extends nothing). Rows: held jobs.
      extendIfAlone: p(`UPDATE jobs SET lease_expires_at = MAX(lease_expires_at, @lease) WHERE ${HELD}
        AND NOT EXISTS (SELECT 1 FROM replicas WHERE id <> @me AND seen_at >= @since)`),
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

  expireLeases(now: number, limit: number, decide: DecideEnd): Promise<EndedAttempt[]> {
    // One synchronous write of the single writer: the rows read are the rows ended, with nothing in
    // between; each end is still fenced and re-checks the lapse (PostgreSQL locks them SKIP LOCKED).
    return this.#gc.write(() => {
      const ended: EndedAttempt[] = [];
      for (const r of this.#s.expired.all(now, limit) as JobRow[]) {
        const end = decide(jobFromRow(r));
        const error = end.error ? JSON.stringify(end.error) : null;
        const fence = { id: r.id, agent: r.agent_id, epoch: r.epoch, now, error };
        const row = (
          end.next === "queued"
            ? this.#s.expireRequeue.get({ ...fence, runAfter: end.runAfter, refund: end.countsAsAttempt ? 0 : 1 })
            : this.#s.expireFinish.get({ ...fence, status: end.next })
        ) as JobRow | undefined;
        if (!row) continue;
        this.#s.attemptEnd.run(now, error, r.id, r.epoch);
        ended.push({ agentId: r.agent_id!, epoch: r.epoch, job: jobFromRow(row) });
      }
      return ended;
    });
  }

  heldJobs(agentId: string): Promise<JobRecord[]> {
    return Promise.resolve((this.#s.held.all(agentId) as JobRow[]).map(jobFromRow));
  }

  liveReplicas(since: number): Promise<string[]> {
    return Promise.resolve((this.#s.live.all(since) as { id: string }[]).map((r) => r.id));
  }

  heldCounts(): Promise<Map<string, number>> {
    const rows = this.#s.heldCounts.all() as { agent_id: string; n: number }[];
    return Promise.resolve(new Map(rows.map((r) => [r.agent_id, Number(r.n)])));
  }

  replicaAlive(
    replicaId: string,
    now: number,
    aliveWithinMs: number,
    restart: { leaseExpiresAt: number } | null,
  ): Promise<number> {
    return this.#gc.write(() => {
      const extended = restart
        ? this.#s.extendIfAlone.run({ lease: restart.leaseExpiresAt, me: replicaId, since: now - aliveWithinMs })
            .changes
        : 0;
      this.#s.replicaSeen.run(replicaId, now);
      return extended;
    });
  }
}
