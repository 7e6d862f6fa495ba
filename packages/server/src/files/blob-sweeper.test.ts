import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import { BlobSweeper } from "./blob-sweeper.ts";
import { FileService } from "./file-service.ts";
import { LocalBlobStore } from "./local-blob-store.ts";

const dir = mkdtempSync(join(tmpdir(), "gantry-blobs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("unreferenced blobs are collected after the grace period; blobs a job names are kept", async () => {
  const store = openSqliteStore(join(dir, "gantry.db"));
  const blobs = new LocalBlobStore(join(dir, "blobs"));
  await blobs.init();
  const files = new FileService(store, blobs, { maxFileBytes: 1 << 20, quotaBytes: 1 << 30 });
  const sweeper = new BlobSweeper({
    store,
    blobs,
    graceMs: 60_000,
    intervalMs: 1000,
    onError: (err) => assert.fail(String(err)),
  });

  const loose = await files.upload("alice", "loose.txt", Readable.from([Buffer.from("nobody uses me")]));
  const used = await files.upload("alice", "used.txt", Readable.from([Buffer.from("a job uses me")]));
  const inputs = await files.resolveInputs("alice", [{ name: "in.txt", hash: used.hash }]);
  const now = Date.now();
  await store.insertJobs([
    {
      id: "01JAAAAAAAAAAAAAAAAAAAAAAA",
      capability: "x",
      capabilityFull: "x",
      payload: null,
      inputs,
      priority: 0,
      owner: "alice",
      idempotencyKey: null,
      requestHash: null,
      timeoutSecs: null,
      maxWaitSecs: null,
      runtimeSecs: null,
      maxAttempts: 1,
      backoffMs: 0,
      createdAt: now,
    },
  ]);
  assert.equal(await store.fileUsage("alice"), loose.size + used.size);

  assert.equal(await sweeper.sweep(now), 0, "within the grace period nothing goes");
  assert.equal(await sweeper.sweep(now + 120_000), 1);
  assert.equal(existsSync(blobs.pathOf(loose.hash)), false);
  assert.equal(existsSync(blobs.pathOf(used.hash)), true);
  assert.equal(await store.getOwnedFile("alice", loose.hash), undefined);
  assert.equal(await store.fileUsage("alice"), used.size, "collected bytes leave the quota");

  // A re-upload after collection stores the bytes again.
  const back = await files.upload("alice", "loose.txt", Readable.from([Buffer.from("nobody uses me")]));
  assert.equal(back.hash, loose.hash);
  assert.equal(existsSync(blobs.pathOf(loose.hash)), true);
  await store.close();
});

test("remove() puts the bytes back when a re-upload recorded the blob meanwhile", async () => {
  const blobs = new LocalBlobStore(join(dir, "blobs2"));
  await blobs.init();
  const staged = await blobs.stage(Readable.from([Buffer.from("racy")]), 100, () => new Error("too large"));
  await staged.commit();
  assert.equal(await blobs.remove(staged.hash, async () => true), false);
  assert.equal(await blobs.size(staged.hash), 4);
  assert.equal(await blobs.remove(staged.hash, async () => false), true);
  assert.equal(await blobs.size(staged.hash), undefined);
});

test("the sweep removes staged files a crash left behind, and only old ones", async () => {
  const store = openSqliteStore(join(dir, "gantry4.db"));
  const blobs = new LocalBlobStore(join(dir, "blobs4"));
  await blobs.init();
  writeFileSync(join(dir, "blobs4", "tmp", "up-crashed"), "partial");
  const sweeper = new BlobSweeper({
    store,
    blobs,
    graceMs: 1000,
    intervalMs: 1000,
    onError: (e) => assert.fail(String(e)),
  });
  await sweeper.sweep(Date.now());
  assert.deepEqual(readdirSync(join(dir, "blobs4", "tmp")), ["up-crashed"]);
  await sweeper.sweep(Date.now() + 7 * 3600 * 1000);
  assert.deepEqual(readdirSync(join(dir, "blobs4", "tmp")), []);
  await store.close();
});

test("stage() past maxBytes rejects and leaves no staged file", async () => {
  const blobs = new LocalBlobStore(join(dir, "blobs3"));
  await blobs.init();
  const big = Readable.from([Buffer.alloc(60), Buffer.alloc(60)]);
  await assert.rejects(
    blobs.stage(big, 100, () => new Error("too large")),
    /too large/,
  );
  assert.deepEqual(readdirSync(join(dir, "blobs3", "tmp")), []);
});
