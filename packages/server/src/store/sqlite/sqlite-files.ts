import type Database from "better-sqlite3";
import type { FenceOutcome, FileStore, OwnedFile, OwnOutcome } from "../store.ts";
import type { GroupCommit } from "./group-commit.ts";
import { type JobRow, jobFromRow } from "./rows.ts";

/**
 * The file verbs of the SQLite store: blob metadata, ownership (quota) and GC claims. Each write
 * decides inside its own transaction (one group-commit savepoint), never from an earlier read.
 */
export class SqliteFiles implements FileStore {
  readonly #gc: GroupCommit;
  readonly #s;

  constructor(db: Database.Database, gc: GroupCommit) {
    this.#gc = gc;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      usage: p("SELECT COALESCE(SUM(size), 0) AS n FROM blob_owners WHERE owner = ?"),
      owned: p("SELECT hash, size, name FROM blob_owners WHERE owner = ? AND hash = ?"),
      ownedByAnyone: p("SELECT hash, size, name FROM blob_owners WHERE hash = ? LIMIT 1"),
      // Contract: one blob row, created or marked referenced now.
      blobUpsert: p(`INSERT INTO blobs (hash, size, created_at, last_referenced_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (hash) DO UPDATE SET last_referenced_at = MAX(last_referenced_at, excluded.last_referenced_at)`),
      ownerInsert: p(`INSERT OR IGNORE INTO blob_owners (owner, hash, name, size, created_at) VALUES (?, ?, ?, ?, ?)`),
      touch: p("UPDATE blobs SET last_referenced_at = MAX(last_referenced_at, ?) WHERE hash = ?"),
      // Contract: one job row, only if held by this agent at this epoch; replaces the output of that name.
      output: p(`UPDATE jobs SET output_files = (
          SELECT json_group_array(json(value)) FROM (
            SELECT value FROM json_each(jobs.output_files) WHERE json_extract(value, '$.name') != @name
            UNION ALL SELECT @file)),
          updated_at = @now
        WHERE id = @jobId AND agent_id = @agentId AND epoch = @epoch AND status IN ('assigned','running') RETURNING *`),
      outputRefDrop: p("DELETE FROM job_files WHERE job_id = ? AND role = 'output' AND name = ?"),
      job: p("SELECT * FROM jobs WHERE id = ?"),
      // Contract: claims (deletes) up to `limit` blobs unreferenced by jobs and untouched since `before`;
      // the claim and the check are one statement, so replicas sweeping at once never both act on a blob.
      collect: p(`DELETE FROM blobs WHERE hash IN (
          SELECT hash FROM blobs b WHERE last_referenced_at < ?
            AND NOT EXISTS (SELECT 1 FROM job_files f WHERE f.hash = b.hash) LIMIT ?)
        RETURNING hash`),
      ownersDrop: p("DELETE FROM blob_owners WHERE hash = ?"),
      recorded: p("SELECT 1 FROM blobs WHERE hash = ?"),
    };
  }

  fileUsage(owner: string): Promise<number> {
    return Promise.resolve((this.#s.usage.get(owner) as { n: number }).n);
  }

  addOwnedFiles(owner: string, files: OwnedFile[], quotaBytes: number, now: number): Promise<OwnOutcome> {
    return this.#gc.write((): OwnOutcome => {
      const usage = (this.#s.usage.get(owner) as { n: number }).n;
      const fresh = new Map<string, OwnedFile>();
      for (const f of files) if (!this.#s.owned.get(owner, f.hash)) fresh.set(f.hash, f);
      const added = [...fresh.values()].reduce((n, f) => n + f.size, 0);
      if (added > 0 && usage + added > quotaBytes) return { kind: "quota", usage };
      for (const f of files) {
        this.#s.blobUpsert.run(f.hash, f.size, now, now);
        this.#s.ownerInsert.run(owner, f.hash, f.name, f.size, now);
      }
      return { kind: "ok", usage: usage + added };
    });
  }

  claimOwnedFiles(owner: string, hashes: string[], now: number): Promise<Map<string, OwnedFile>> {
    return this.#gc.write(() => {
      const found = new Map<string, OwnedFile>();
      for (const h of new Set(hashes)) {
        const row = this.#s.owned.get(owner, h) as OwnedFile | undefined;
        if (!row) continue;
        this.#s.touch.run(now, h);
        found.set(h, row);
      }
      return found;
    });
  }

  getOwnedFile(owner: string | null, hash: string): Promise<OwnedFile | undefined> {
    const row = owner === null ? this.#s.ownedByAnyone.get(hash) : this.#s.owned.get(owner, hash);
    return Promise.resolve(row as OwnedFile | undefined);
  }

  addJobOutput(jobId: string, agentId: string, epoch: number, file: OwnedFile, now: number): Promise<FenceOutcome> {
    return this.#gc
      .write((): FenceOutcome => {
        this.#s.outputRefDrop.run(jobId, file.name);
        const ref = JSON.stringify({ name: file.name, hash: file.hash, size: file.size });
        const row = this.#s.output.get({ name: file.name, file: ref, now, jobId, agentId, epoch }) as
          | JobRow
          | undefined;
        if (!row) {
          // Throwing rolls this write's savepoint back (the reference dropped above included).
          const current = this.#s.job.get(jobId) as JobRow | undefined;
          throw new FenceRefused(current ? { kind: "stale", job: jobFromRow(current) } : { kind: "missing" });
        }
        this.#s.blobUpsert.run(file.hash, file.size, now, now);
        this.#s.ownerInsert.run(row.owner, file.hash, file.name, file.size, now);
        return { kind: "ok", job: jobFromRow(row) };
      })
      .catch((err: unknown) => {
        if (err instanceof FenceRefused) return err.outcome;
        throw err;
      });
  }

  collectBlobs(before: number, limit: number): Promise<string[]> {
    return this.#gc.write(() => {
      const hashes = (this.#s.collect.all(before, limit) as { hash: string }[]).map((r) => r.hash);
      for (const h of hashes) this.#s.ownersDrop.run(h);
      return hashes;
    });
  }

  blobRecorded(hash: string): Promise<boolean> {
    return Promise.resolve(this.#s.recorded.get(hash) !== undefined);
  }
}

class FenceRefused extends Error {
  readonly outcome: FenceOutcome;
  constructor(outcome: FenceOutcome) {
    super("fence refused");
    this.outcome = outcome;
  }
}
