import type pg from "pg";
import type { RetentionBatch } from "../store.ts";

const FINISHED = "status IN ('completed', 'failed', 'cancelled')";

const SQL = {
  // Contract: deletes at most $2 log rows of jobs finished before $1 (jobs_finished), picked and
  // removed in one statement.
  logs: `DELETE FROM job_logs WHERE (job_id, seq) IN (
      SELECT l.job_id, l.seq FROM jobs j JOIN job_logs l ON l.job_id = j.id
      WHERE j.ended_at < $1 AND j.${FINISHED} LIMIT $2)`,
  // Contract: deletes at most $2 such jobs whose logs are gone, with their attempts, in one statement;
  // SKIP LOCKED, so replicas sweeping at once never collide, and a job retried meanwhile stays.
  jobs: `WITH d AS (DELETE FROM jobs WHERE id IN (
        SELECT id FROM jobs j WHERE ended_at < $1 AND ${FINISHED}
          AND NOT EXISTS (SELECT 1 FROM job_logs l WHERE l.job_id = j.id) LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING id),
    a AS (DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM d))
    SELECT count(*)::int AS n FROM d`,
};

/** Retention for the PostgreSQL store: bounded steps, as SqliteRetention describes. */
export async function deleteFinishedBefore(pool: pg.Pool, cutoff: number, limit: number): Promise<RetentionBatch> {
  const logs = (await pool.query(SQL.logs, [cutoff, limit])).rowCount ?? 0;
  const jobs = (await pool.query<{ n: number }>(SQL.jobs, [cutoff, limit])).rows[0]?.n ?? 0;
  return { jobs, logs };
}
