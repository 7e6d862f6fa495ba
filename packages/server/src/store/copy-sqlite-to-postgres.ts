import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createPool, inTransaction } from "./postgres/postgres-db.ts";
import { migratePostgres } from "./postgres/postgres-migrate.ts";
import { migrate } from "./sqlite/migrate.ts";

/** Every table an embedded deployment holds, parents first (job_files after jobs: triggers add some). */
const TABLES = [
  "meta",
  "users",
  "refresh_tokens",
  "api_keys",
  "agents",
  "agent_commands",
  "jobs",
  "job_attempts",
  "job_logs",
  "blobs",
  "blob_owners",
  "job_files",
  "audit_log",
] as const;
const CHUNK = 500;

export interface CopyReport {
  rows: Record<string, number>;
}

/**
 * `gantry migrate`: copies an embedded deployment's SQLite database (`<dataDir>/gantry.db`, brought to
 * the latest migration first) into a PostgreSQL schema, in one transaction: all of it or nothing.
 * Refuses a target that already holds jobs. The blobs stay where they are: point `--blob-dir` of
 * the replicas at `<dataDir>/blobs` (or copy it to the shared volume).
 */
export async function copySqliteToPostgres(dataDir: string, url: string): Promise<CopyReport> {
  const path = join(dataDir, "gantry.db");
  if (!existsSync(path)) throw new Error(`no Gantry database at ${path}`);
  const sqlite = new Database(path);
  migrate(sqlite);
  const schema = new URL(url).searchParams.get("schema") ?? undefined;
  const pool = createPool({ url, schema, poolSize: 1 });
  try {
    return await inTransaction(pool, async (c) => {
      if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await migratePostgres(c);
      const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs");
      if (rows[0]!.n > 0) throw new Error("the target database already holds jobs: migrate into an empty one");
      const report: CopyReport = { rows: {} };
      for (const table of TABLES) {
        let copied = 0;
        let batch: unknown[] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          // json_populate_recordset maps each SQLite row's columns onto the same-named PostgreSQL ones.
          await c.query(
            `INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, $1::json) ON CONFLICT DO NOTHING`,
            [JSON.stringify(batch)],
          );
          copied += batch.length;
          batch = [];
        };
        for (const row of sqlite.prepare(`SELECT * FROM ${table}`).iterate()) {
          batch.push(row);
          if (batch.length >= CHUNK) await flush();
        }
        await flush();
        report.rows[table] = copied;
      }
      return report;
    });
  } finally {
    sqlite.close();
    await pool.end();
  }
}
