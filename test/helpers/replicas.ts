import { randomBytes } from "node:crypto";
import { type GantryServer, type ServerOptions, startServer } from "@gantry/server";
import pg from "pg";
import { tempDir } from "./temp-dir.ts";

/** The PostgreSQL the replica tests share: GANTRY_TEST_PG, else the one on this machine. */
export const TEST_PG_URL = process.env.GANTRY_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

/** Whether the test PostgreSQL answers; when not, says so (the test file skips its tests). */
export async function postgresReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch (err) {
    console.log(`# SKIP replica tests: no PostgreSQL at ${TEST_PG_URL} (${(err as Error).message})`);
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/** One deployment: a fresh schema (its database URL names it) and a data dir its replicas share. */
export function deployment(): { db: string; schema: string; dataDir: string; drop(): Promise<void> } {
  const schema = `gantry_test_${randomBytes(6).toString("hex")}`;
  const dir = tempDir();
  const url = new URL(TEST_PG_URL);
  url.searchParams.set("schema", schema);
  return {
    db: url.toString(),
    schema,
    dataDir: dir.path,
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
      dir.remove();
    },
  };
}

/** Starts in-process replicas of one deployment, one after another (the first bootstraps). */
export async function startReplicas(
  d: { db: string; dataDir: string },
  n: number,
  options: ServerOptions,
): Promise<GantryServer[]> {
  const servers: GantryServer[] = [];
  for (let i = 0; i < n; i++) {
    servers.push(await startServer({ port: 0, ...options, db: d.db, dataDir: d.dataDir, replicaId: `r${i}` }));
  }
  return servers;
}
