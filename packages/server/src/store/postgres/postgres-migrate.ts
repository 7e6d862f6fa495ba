import { readdirSync, readFileSync } from "node:fs";
import type pg from "pg";

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);
/** Any constant: replicas starting at once take turns migrating. */
const MIGRATE_LOCK = 7_070_013;

/**
 * Applies the numbered, append-only migrations in ./migrations that the schema has not seen, each in
 * its own transaction, under an advisory lock so replicas starting together migrate once.
 */
export async function migratePostgres(client: pg.ClientBase): Promise<number> {
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK]);
  try {
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)",
    );
    const { rows } = await client.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
    const current = rows[0]?.v ?? 0;
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{3}-.+\.sql$/.test(f))
      .sort();
    let version = current;
    for (const file of files) {
      const n = Number(file.slice(0, 3));
      if (n <= current) continue;
      await client.query("BEGIN");
      try {
        await client.query(readFileSync(new URL(file, MIGRATIONS_DIR), "utf8"));
        await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [n, Date.now()]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw err;
      }
      version = n;
    }
    return version;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK]);
  }
}
