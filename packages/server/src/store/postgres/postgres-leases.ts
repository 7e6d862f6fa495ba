import type { HeldJob } from "@gantry/protocol";
import type pg from "pg";
import { type JobRow, jobFromRow } from "../sqlite/rows.ts";
import type { DecideEnd, EndedAttempt, JobRecord, LeaseRenewal } from "../store.ts";
import { inTransaction } from "./postgres-db.ts";

const HELD = "status IN ('assigned','running')";

const SQL = {
  // Contract: renews exactly the listed (id, epoch) that agent $2 still holds and whose lease has not
  // lapsed at $3 (a lapsed lease belongs to the sweep); rows by primary key; returns the renewed.
  renew: `UPDATE jobs SET lease_expires_at = $4
    WHERE (id, epoch) IN (SELECT * FROM unnest($1::text[], $5::int[])) AND agent_id = $2 AND ${HELD}
      AND lease_expires_at >= $3
    RETURNING id, epoch`,
  quiet: `SELECT * FROM jobs WHERE agent_id = $1 AND ${HELD} AND updated_at < $2`,
  held: `SELECT * FROM jobs WHERE agent_id = $1 AND ${HELD}`,
  heldCounts: `SELECT agent_id, COUNT(*)::int AS n FROM jobs WHERE ${HELD} GROUP BY agent_id`,
  // Contract (lease sweep, first half): locks at most $2 lapsed leases (jobs_lease) that no other
  // sweeper holds; the second half ends them under those locks, in the same transaction.
  expired: `SELECT * FROM jobs WHERE lease_expires_at < $1 AND ${HELD} ORDER BY lease_expires_at LIMIT $2
    FOR UPDATE SKIP LOCKED`,
  expireRequeue: `UPDATE jobs SET status = 'queued', error = $1, agent_id = NULL, lease_expires_at = NULL,
    run_after = $2, attempts_used = attempts_used - $3, updated_at = $4
    WHERE id = $5 AND agent_id = $6 AND epoch = $7 AND ${HELD} AND lease_expires_at < $4 RETURNING *`,
  expireFinish: `UPDATE jobs SET status = $1, error = $2, lease_expires_at = NULL, cancel_requested_at = NULL,
    ended_at = $3, updated_at = $3
    WHERE id = $4 AND agent_id = $5 AND epoch = $6 AND ${HELD} AND lease_expires_at < $3 RETURNING *`,
  attemptEnd: "UPDATE job_attempts SET ended_at = $1, error = $2 WHERE job_id = $3 AND epoch = $4 AND ended_at IS NULL",
  // Contract: records replica $1 alive at $2 and, when $4 is set, extends every held lease to $4 only if
  // no other replica was seen since $3 — decided in the statement. Returns the leases extended.
  alive: `WITH ext AS (UPDATE jobs SET lease_expires_at = GREATEST(lease_expires_at, $4) WHERE $4::bigint IS NOT NULL
        AND ${HELD} AND NOT EXISTS (SELECT 1 FROM replicas WHERE id <> $1 AND seen_at >= $3) RETURNING 1),
    seen AS (INSERT INTO replicas (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at)
    SELECT count(*)::int AS n FROM ext`,
  live: "SELECT id FROM replicas WHERE seen_at >= $1 ORDER BY id",
};

/** The lease verbs of the PostgreSQL store; a renewal and an expiry racing each other cannot both win. */
export class PostgresLeases {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async renewLeases(
    agentId: string,
    listed: HeldJob[],
    now: number,
    leaseExpiresAt: number,
    quietBefore: number,
  ): Promise<LeaseRenewal> {
    let renewed = new Set<string>();
    if (listed.length > 0) {
      const { rows } = await this.#pool.query<{ id: string; epoch: number }>(SQL.renew, [
        listed.map((h) => h.jobId),
        agentId,
        now,
        leaseExpiresAt,
        listed.map((h) => h.epoch),
      ]);
      renewed = new Set(rows.map((r) => `${r.id}@${r.epoch}`));
    }
    const listedKeys = new Set(listed.map((h) => `${h.jobId}@${h.epoch}`));
    const quiet = (await this.#pool.query<JobRow>(SQL.quiet, [agentId, quietBefore])).rows;
    return {
      drop: listed.filter((h) => !renewed.has(`${h.jobId}@${h.epoch}`)),
      unlisted: quiet.filter((r) => !listedKeys.has(`${r.id}@${r.epoch}`)).map(jobFromRow),
    };
  }

  expireLeases(now: number, limit: number, decide: DecideEnd): Promise<EndedAttempt[]> {
    return inTransaction(this.#pool, async (c) => {
      const ended: EndedAttempt[] = [];
      for (const r of (await c.query<JobRow>(SQL.expired, [now, limit])).rows) {
        const end = decide(jobFromRow(r));
        const error = end.error ? JSON.stringify(end.error) : null;
        const { rows } =
          end.next === "queued"
            ? await c.query<JobRow>(SQL.expireRequeue, [
                error,
                end.runAfter,
                end.countsAsAttempt ? 0 : 1,
                now,
                r.id,
                r.agent_id,
                r.epoch,
              ])
            : await c.query<JobRow>(SQL.expireFinish, [end.next, error, now, r.id, r.agent_id, r.epoch]);
        if (!rows[0]) continue;
        await c.query(SQL.attemptEnd, [now, error, r.id, r.epoch]);
        ended.push({ agentId: r.agent_id!, epoch: r.epoch, job: jobFromRow(rows[0]) });
      }
      return ended;
    });
  }

  async heldJobs(agentId: string): Promise<JobRecord[]> {
    return (await this.#pool.query<JobRow>(SQL.held, [agentId])).rows.map(jobFromRow);
  }

  async liveReplicas(since: number): Promise<string[]> {
    return (await this.#pool.query<{ id: string }>(SQL.live, [since])).rows.map((r) => r.id);
  }

  async heldCounts(): Promise<Map<string, number>> {
    const { rows } = await this.#pool.query<{ agent_id: string; n: number }>(SQL.heldCounts);
    return new Map(rows.map((r) => [r.agent_id, Number(r.n)]));
  }

  async replicaAlive(
    replicaId: string,
    now: number,
    aliveWithinMs: number,
    restart: { leaseExpiresAt: number } | null,
  ): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(SQL.alive, [
      replicaId,
      now,
      now - aliveWithinMs,
      restart?.leaseExpiresAt ?? null,
    ]);
    return rows[0]?.n ?? 0;
  }
}
