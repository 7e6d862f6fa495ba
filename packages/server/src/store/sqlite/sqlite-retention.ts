import type Database from "better-sqlite3";
import type { GroupCommit } from "./group-commit.ts";

/**
 * Retention: deletes finished jobs older than a cutoff, with their logs and attempts.
 *
 * Contract: one call deletes at most `limit` jobs (walking the partial index jobs_finished), and the
 * logs and attempts of exactly those, in one group-committed write; returns how many jobs went. The
 * DELETE picks and removes its rows in the same statement, so replicas sweeping at once never
 * delete a row twice or one that a retry has just moved out of its terminal state.
 */
export class SqliteRetention {
  readonly #gc: GroupCommit;
  readonly #jobs: Database.Statement;
  readonly #logs: Database.Statement;
  readonly #attempts: Database.Statement;

  constructor(db: Database.Database, gc: GroupCommit) {
    this.#gc = gc;
    this.#jobs = db.prepare(`DELETE FROM jobs WHERE id IN (
        SELECT id FROM jobs WHERE ended_at < ? AND status IN ('completed', 'failed', 'cancelled') LIMIT ?)
      RETURNING id`);
    this.#logs = db.prepare("DELETE FROM job_logs WHERE job_id IN (SELECT value FROM json_each(?))");
    this.#attempts = db.prepare("DELETE FROM job_attempts WHERE job_id IN (SELECT value FROM json_each(?))");
  }

  deleteFinishedBefore(cutoff: number, limit: number): Promise<number> {
    return this.#gc.write(() => {
      const ids = (this.#jobs.all(cutoff, limit) as { id: string }[]).map((r) => r.id);
      if (ids.length === 0) return 0;
      const list = JSON.stringify(ids);
      this.#logs.run(list);
      this.#attempts.run(list);
      return ids.length;
    });
  }
}
