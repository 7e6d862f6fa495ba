import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import pg from "pg";
import { hashSecret } from "../auth/secrets.ts";
import { startServer } from "../start-server.ts";
import { dropTestSchemas, TEST_PG_URL, testPostgresReachable, testSchema } from "../store/postgres/pg-test-schema.ts";
import { createPool } from "../store/postgres/postgres-db.ts";
import { openPostgresStore } from "../store/postgres/postgres-store.ts";
import type { ClusterMessage } from "./cluster-bus.ts";
import { PostgresClusterBus } from "./postgres-cluster-bus.ts";

const reachable = await testPostgresReachable();
after(() => (reachable ? dropTestSchemas() : undefined));
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
};

async function busPair(schema: string) {
  const pool = createPool({ url: TEST_PG_URL, schema, poolSize: 2 });
  const a = await PostgresClusterBus.open({ url: TEST_PG_URL, schema, pool });
  const b = await PostgresClusterBus.open({ url: TEST_PG_URL, schema, pool });
  const close = async () => {
    await a.close();
    await b.close();
    await pool.end();
  };
  return { a, b, close };
}

test("postgres bus: messages reach this replica at once and the others once, in order, big ones too", {
  skip: !reachable,
}, async () => {
  const schema = testSchema();
  await (await openPostgresStore({ url: TEST_PG_URL, schema })).close(); // migrations: cluster_messages
  const { a, b, close } = await busPair(schema);
  const gotA: ClusterMessage[] = [];
  const gotB: ClusterMessage[] = [];
  a.subscribe((m) => gotA.push(m));
  b.subscribe((m) => gotB.push(m));
  const big = "x".repeat(20_000);
  const sent: ClusterMessage[] = [
    ...Array.from({ length: 300 }, (_, i) => ({ kind: "agent:command", agentId: `ag${i}` }) as const),
    { kind: "apikey:revoked", hash: big, id: "k" },
  ];
  for (const m of sent) a.publish(m);
  assert.equal(gotA.length, sent.length, "delivered here synchronously");
  await until(() => gotB.length >= sent.length);
  assert.deepEqual(gotB, sent, "the other replica got each once, in order (the big one by table)");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(gotA.length, sent.length, "its own NOTIFYs are not delivered twice");
  await close();
});

test("postgres bus: an API-key revocation announced on the bus empties every replica's key cache", {
  skip: !reachable,
  timeout: 30_000,
}, async () => {
  const schema = testSchema();
  const dir = mkdtempSync(join(tmpdir(), "gantry-bus-"));
  const db = `${TEST_PG_URL}?schema=${schema}`;
  const opts = { port: 0, dataDir: dir, db, logLevel: "silent", sweepIntervalMs: 50 };
  const r1 = await startServer({ ...opts, replicaId: "k1" });
  const r2 = await startServer({ ...opts, replicaId: "k2" });
  const key = r1.bootstrap.clientKey;
  const list = (url: string) => fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal((await list(r2.url)).status, 200, "the key is now cached on r2");
  const admin = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
  await admin.connect();
  await admin.query("UPDATE api_keys SET revoked_at = $1 WHERE hash = $2", [Date.now(), hashSecret(key)]);
  assert.equal((await list(r2.url)).status, 200, "the cache still holds it (for up to a minute)");
  const pool = createPool({ url: TEST_PG_URL, schema, poolSize: 1 });
  const bus = await PostgresClusterBus.open({ url: TEST_PG_URL, schema, pool });
  bus.publish({ kind: "apikey:revoked", hash: hashSecret(key), id: "k" });
  let status = 200;
  for (let i = 0; i < 100 && status !== 401; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await list(r2.url)).status;
  }
  assert.equal(status, 401, "r2 forgot the revoked key");
  await bus.close();
  await pool.end();
  await admin.end();
  await r1.close();
  await r2.close();
  rmSync(dir, { recursive: true, force: true });
});
