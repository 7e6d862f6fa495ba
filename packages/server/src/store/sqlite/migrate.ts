import { readdirSync, readFileSync } from "node:fs";
import type Database from "better-sqlite3";

const MIGRATIONS_DIR = new URL("./migrations/", import.meta.url);

/** Applies the numbered, append-only migrations in ./migrations that the database has not seen. */
export function migrate(db: Database.Database): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}-.+\.sql$/.test(f))
    .sort();
  let version = current;
  for (const file of files) {
    const n = Number(file.slice(0, 3));
    if (n <= current) continue;
    const sql = readFileSync(new URL(file, MIGRATIONS_DIR), "utf8");
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${n}`);
    })();
    version = n;
  }
  return version;
}
