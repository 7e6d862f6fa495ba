import { openPostgresStore } from "./postgres/postgres-store.ts";
import { openSqliteStore } from "./sqlite/sqlite-store.ts";
import type { Store } from "./store.ts";

/** The store a server runs on: PostgreSQL for a `postgres://` URL, else the embedded SQLite file. */
export async function openStore(db: string, sqlitePath: string): Promise<Store> {
  // ?schema=NAME: the deployment's schema (replicas of one deployment name the same one).
  if (/^postgres(ql)?:\/\//.test(db)) {
    return openPostgresStore({ url: db, schema: new URL(db).searchParams.get("schema") ?? undefined });
  }
  if (db) throw new Error(`--db: expected a postgres:// URL or nothing (embedded SQLite), got ${db}`);
  return openSqliteStore(sqlitePath);
}
