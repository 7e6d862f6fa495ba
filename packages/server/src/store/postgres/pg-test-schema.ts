import { randomBytes } from "node:crypto";
import pg from "pg";

/** The PostgreSQL the tests use: GANTRY_TEST_PG, else the one on this machine. */
export const TEST_PG_URL = process.env.GANTRY_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

/** Whether the test PostgreSQL answers; when not, says so once (the PostgreSQL half is skipped). */
export async function testPostgresReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query("SELECT 1");
    return true;
  } catch (err) {
    console.log(`# SKIP PostgreSQL tests: no PostgreSQL at ${TEST_PG_URL} (${(err as Error).message})`);
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/** A fresh schema name for one test; every one made is dropped by dropTestSchemas. */
const made: string[] = [];
export function testSchema(): string {
  const name = `gantry_test_${randomBytes(6).toString("hex")}`;
  made.push(name);
  return name;
}

export async function dropTestSchemas(): Promise<void> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    for (const s of made.splice(0)) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await c.end();
  }
}
