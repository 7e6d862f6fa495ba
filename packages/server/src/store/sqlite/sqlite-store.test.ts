import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { credentialStoreConformance } from "../credential-store-conformance.ts";
import { fileStoreConformance } from "../file-store-conformance.ts";
import { newJob, storeConformance } from "../store-conformance.ts";
import { storeRaceConformance } from "../store-race-conformance.ts";
import { openSqliteStore } from "./sqlite-store.ts";

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), "gantry-store-"));
  dirs.push(dir);
  return join(dir, "gantry.db");
};
process.on("exit", () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storeConformance("sqlite", async () => openSqliteStore(fresh()));
fileStoreConformance("sqlite", async () => openSqliteStore(fresh()));
// One process, one writer: the peers are the store itself, its writes interleaving per event-loop turn.
storeRaceConformance(
  "sqlite",
  async () => openSqliteStore(fresh()),
  async (s, n) => Array(n).fill(s),
);
credentialStoreConformance("sqlite", async () => openSqliteStore(fresh()));

test("sqlite group commit: a write is invisible to other connections until its promise resolves", async () => {
  const path = fresh();
  const store = openSqliteStore(path);
  const reader = new Database(path, { readonly: true });
  const count = () => (reader.prepare("SELECT count(*) AS n FROM jobs").get() as { n: number }).n;
  const pending = [store.insertJobs([newJob()]), store.insertJobs([newJob()])];
  assert.equal(count(), 0, "nothing is committed within the turn");
  await Promise.all(pending);
  assert.equal(count(), 2, "both writes committed together once the promises resolve");
  reader.close();
  await store.close();
});

test("sqlite group commit: a failing write rolls back alone and the batch still commits", async () => {
  const store = openSqliteStore(fresh());
  const ok = newJob();
  const dup = newJob();
  const results = await Promise.allSettled([
    store.insertJobs([ok]),
    store.insertJobs([dup]),
    store.insertJobs([{ ...dup }]),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "fulfilled", "rejected"],
  );
  assert.ok(await store.getJob(ok.id));
  await store.close();
});
