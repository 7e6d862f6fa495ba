import type pg from "pg";
import { type JobRow, jobFromRow } from "../sqlite/rows.ts";
import type { FenceOutcome, FileStore, OwnedFile, OwnOutcome } from "../store.ts";
import { inTransaction } from "./postgres-db.ts";

const SQL = {
  usage: "SELECT COALESCE(SUM(size), 0) AS n FROM blob_owners WHERE owner = $1",
  owned: "SELECT hash, size, name FROM blob_owners WHERE owner = $1 AND hash = $2",
  ownedByAnyone: "SELECT hash, size, name FROM blob_owners WHERE hash = $1 LIMIT 1",
  ownedAny: "SELECT hash FROM blob_owners WHERE owner = $1 AND hash = ANY($2)",
  // One owner's quota is decided by one transaction at a time, on any replica.
  ownerLock: "SELECT pg_advisory_xact_lock(hashtext('gantry-owner:' || $1))",
  // Contract: one blob row, created or marked referenced now.
  blobUpsert: `INSERT INTO blobs (hash, size, created_at, last_referenced_at) VALUES ($1, $2, $3, $3)
    ON CONFLICT (hash) DO UPDATE SET last_referenced_at = GREATEST(blobs.last_referenced_at, EXCLUDED.last_referenced_at)`,
  ownerInsert: `INSERT INTO blob_owners (owner, hash, name, size, created_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT DO NOTHING`,
  // Contract: the owner's rows among $2, marking each blob referenced at $3, in one statement.
  claim: `WITH o AS (SELECT hash, size, name FROM blob_owners WHERE owner = $1 AND hash = ANY($2)),
    t AS (UPDATE blobs SET last_referenced_at = GREATEST(blobs.last_referenced_at, $3) FROM o WHERE blobs.hash = o.hash)
    SELECT * FROM o`,
  outputRefDrop: "DELETE FROM job_files WHERE job_id = $1 AND role = 'output' AND name = $2",
  // Contract: one job row, only if held by this agent at this epoch; replaces the output of that name.
  output: `UPDATE jobs SET output_files = (
      SELECT COALESCE(jsonb_agg(e), '[]'::jsonb) FROM jsonb_array_elements(jobs.output_files::jsonb) e
      WHERE e->>'name' <> $1) || jsonb_build_array($2::jsonb),
    updated_at = $3
    WHERE id = $4 AND agent_id = $5 AND epoch = $6 AND status IN ('assigned','running') RETURNING *`,
  job: "SELECT * FROM jobs WHERE id = $1",
  // Contract: claims (deletes) up to $2 blobs unreferenced by jobs and untouched since $1, with their
  // owners, in one statement; SKIP LOCKED, so replicas sweeping at once never both act on a blob.
  collect: `WITH c AS (DELETE FROM blobs WHERE hash IN (
        SELECT hash FROM blobs b WHERE last_referenced_at < $1
          AND NOT EXISTS (SELECT 1 FROM job_files f WHERE f.hash = b.hash) LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING hash),
    o AS (DELETE FROM blob_owners WHERE hash IN (SELECT hash FROM c))
    SELECT hash FROM c`,
  recorded: "SELECT 1 FROM blobs WHERE hash = $1",
};

/** The file verbs of the PostgreSQL store: blob metadata, ownership (quota) and GC claims. */
export class PostgresFiles implements FileStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async fileUsage(owner: string): Promise<number> {
    return (await this.#pool.query<{ n: number }>(SQL.usage, [owner])).rows[0]!.n;
  }

  addOwnedFiles(owner: string, files: OwnedFile[], quotaBytes: number, now: number): Promise<OwnOutcome> {
    return inTransaction(this.#pool, async (c): Promise<OwnOutcome> => {
      await c.query(SQL.ownerLock, [owner]);
      const usage = (await c.query<{ n: number }>(SQL.usage, [owner])).rows[0]!.n;
      const held = new Set(
        (await c.query<{ hash: string }>(SQL.ownedAny, [owner, files.map((f) => f.hash)])).rows.map((r) => r.hash),
      );
      const fresh = new Map<string, OwnedFile>();
      for (const f of files) if (!held.has(f.hash)) fresh.set(f.hash, f);
      const added = [...fresh.values()].reduce((n, f) => n + f.size, 0);
      if (added > 0 && usage + added > quotaBytes) return { kind: "quota", usage };
      for (const f of files) {
        await c.query(SQL.blobUpsert, [f.hash, f.size, now]);
        await c.query(SQL.ownerInsert, [owner, f.hash, f.name, f.size, now]);
      }
      return { kind: "ok", usage: usage + added };
    });
  }

  async claimOwnedFiles(owner: string, hashes: string[], now: number): Promise<Map<string, OwnedFile>> {
    const { rows } = await this.#pool.query<OwnedFile>(SQL.claim, [owner, [...new Set(hashes)], now]);
    return new Map(rows.map((r) => [r.hash, r]));
  }

  async getOwnedFile(owner: string | null, hash: string): Promise<OwnedFile | undefined> {
    const { rows } =
      owner === null
        ? await this.#pool.query<OwnedFile>(SQL.ownedByAnyone, [hash])
        : await this.#pool.query<OwnedFile>(SQL.owned, [owner, hash]);
    return rows[0];
  }

  addJobOutput(jobId: string, agentId: string, epoch: number, file: OwnedFile, now: number): Promise<FenceOutcome> {
    return inTransaction(this.#pool, async (c): Promise<FenceOutcome> => {
      await c.query(SQL.outputRefDrop, [jobId, file.name]);
      const ref = JSON.stringify({ name: file.name, hash: file.hash, size: file.size });
      const [row] = (await c.query<JobRow>(SQL.output, [file.name, ref, now, jobId, agentId, epoch])).rows;
      if (!row) {
        const [current] = (await c.query<JobRow>(SQL.job, [jobId])).rows;
        throw new FenceRefused(current ? { kind: "stale", job: jobFromRow(current) } : { kind: "missing" });
      }
      await c.query(SQL.blobUpsert, [file.hash, file.size, now]);
      await c.query(SQL.ownerInsert, [row.owner, file.hash, file.name, file.size, now]);
      return { kind: "ok", job: jobFromRow(row) };
    }).catch((err: unknown) => {
      // Throwing rolled the transaction back (the reference dropped above included).
      if (err instanceof FenceRefused) return err.outcome;
      throw err;
    });
  }

  async collectBlobs(before: number, limit: number): Promise<string[]> {
    return (await this.#pool.query<{ hash: string }>(SQL.collect, [before, limit])).rows.map((r) => r.hash);
  }

  async blobRecorded(hash: string): Promise<boolean> {
    return (await this.#pool.query(SQL.recorded, [hash])).rowCount! > 0;
  }
}

class FenceRefused extends Error {
  readonly outcome: FenceOutcome;
  constructor(outcome: FenceOutcome) {
    super("fence refused");
    this.outcome = outcome;
  }
}
