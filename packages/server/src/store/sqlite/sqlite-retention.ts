import type Database from "better-sqlite3";
import type { RetentionBatch } from "../store.ts";
import type { GroupCommit } from "./group-commit.ts";

const FINISHED = "status IN ('completed', 'failed', 'cancelled')";

/**
 * Retention: deletes finished jobs older than a cutoff, with their logs and attempts.
 *
 * Contract: one call is one group-committed write that deletes at most `limit` log rows of such jobs,
 * then at most `limit` of those jobs whose logs are all gone, with their attempts (≤ maxAttempts
 * each); it returns both counts. A job with a million log lines is therefore removed over many
 * calls, none of which holds the write lock for long. Each DELETE picks and removes its rows in the
 * same statement (walking jobs_finished), so replicas sweeping at once never collide, and a job that
 * a retry moved out of its terminal state in between is not deleted.
 */
export class SqliteRetention {
  readonly #gc: GroupCommit;
  readonly #logs: Database.Statement;
  readonly #jobs: Database.Statement;
  readonly #attempts: Database.Statement;

  constructor(db: Database.Database, gc: GroupCommit) {
    this.#gc = gc;
    this.#logs = db.prepare(`DELETE FROM job_logs WHERE (job_id, seq) IN (
        SELECT l.job_id, l.seq FROM jobs j INDEXED BY jobs_finished JOIN job_logs l ON l.job_id = j.id
        WHERE j.ended_at < ? AND j.${FINISHED} LIMIT ?)`);
    this.#jobs = db.prepare(`DELETE FROM jobs WHERE id IN (
        SELECT id FROM jobs j INDEXED BY jobs_finished WHERE ended_at < ? AND ${FINISHED}
          AND NOT EXISTS (SELECT 1 FROM job_logs l WHERE l.job_id = j.id) LIMIT ?)
      RETURNING id`);
    this.#attempts = db.prepare("DELETE FROM job_attempts WHERE job_id IN (SELECT value FROM json_each(?))");
  }

  deleteFinishedBefore(cutoff: number, limit: number): Promise<RetentionBatch> {
    return this.#gc.write(() => {
      const logs = this.#logs.run(cutoff, limit).changes;
      const ids = (this.#jobs.all(cutoff, limit) as { id: string }[]).map((r) => r.id);
      if (ids.length > 0) this.#attempts.run(JSON.stringify(ids));
      return { jobs: ids.length, logs };
    });
  }
}
