import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import type { Store } from "./store.ts";
import { newJob } from "./store-conformance.ts";

const h = (s: string) => createHash("sha256").update(s).digest("hex");
const file = (s: string, size = 100) => ({ hash: h(s), size, name: `${s}.bin` });

/** The file verbs every Store must have (blob metadata, quota, fencing, GC claims). */
export function fileStoreConformance(name: string, open: () => Promise<Store>): void {
  const withStore = (title: string, fn: (s: Store) => Promise<void>) =>
    test(`${name} files: ${title}`, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });

  withStore("quota is decided in the verb: all files or none, a held blob costs nothing", async (s) => {
    const now = Date.now();
    assert.deepEqual(await s.addOwnedFiles("o", [file("a"), file("b")], 250, now), { kind: "ok", usage: 200 });
    assert.equal((await s.addOwnedFiles("o", [file("c"), file("d")], 250, now)).kind, "quota");
    assert.equal(await s.getOwnedFile("o", h("c")), undefined, "a refused request records nothing");
    assert.deepEqual(await s.addOwnedFiles("o", [file("a")], 250, now), { kind: "ok", usage: 200 });
    assert.equal((await s.addOwnedFiles("other", [file("a")], 250, now)).kind, "ok");
    assert.equal(await s.fileUsage("other"), 100, "each owner is charged for what it holds");
    const claimed = await s.claimOwnedFiles("o", [h("a"), h("zzz")], now);
    assert.deepEqual([...claimed.keys()], [h("a")]);
  });

  withStore("job outputs are fenced by agent and epoch and given to the job's owner", async (s) => {
    const j = newJob({ capability: "f.cap", owner: "alice" });
    await s.insertJobs([j]);
    const [claimed] = await s.claimJobs("f.cap", ["agent-1"], Date.now(), Date.now() + 60_000);
    const out = file("out", 42);
    assert.equal((await s.addJobOutput(j.id, "agent-1", claimed!.epoch + 1, out, Date.now())).kind, "stale");
    assert.equal((await s.addJobOutput(j.id, "agent-2", claimed!.epoch, out, Date.now())).kind, "stale");
    assert.equal((await s.addJobOutput("01ARZ3NDEKTSV4RRFFQ69G5FAV", "agent-1", 1, out, Date.now())).kind, "missing");
    assert.equal(await s.getOwnedFile("alice", out.hash), undefined, "a refused output records nothing");
    const ok = await s.addJobOutput(j.id, "agent-1", claimed!.epoch, out, Date.now());
    assert.equal(ok.kind, "ok");
    const again = await s.addJobOutput(
      j.id,
      "agent-1",
      claimed!.epoch,
      { ...file("out2", 7), name: out.name },
      Date.now(),
    );
    assert.equal(again.kind, "ok");
    const got = (await s.getJob(j.id))!;
    assert.deepEqual(got.outputFiles, [{ name: out.name, hash: h("out2"), size: 7 }], "same name replaces");
    assert.ok(await s.getOwnedFile("alice", h("out2")));
    assert.equal((await s.getOwnedFile(null, h("out2")))?.size, 7, "admins find any owner's file");
    assert.equal(await s.getOwnedFile("bob", h("out2")), undefined);
    // Completing without reported files keeps the uploaded list.
    await s.completeAttempt(j.id, "agent-1", claimed!.epoch, { ok: 1 }, [], Date.now());
    assert.deepEqual((await s.getJob(j.id))!.outputFiles, got.outputFiles);
  });

  withStore("a new attempt starts without the outputs an earlier one uploaded", async (s) => {
    const j = newJob({ capability: "f.retry", owner: "alice", maxAttempts: 2, backoffMs: 0 });
    await s.insertJobs([j]);
    const [first] = await s.claimJobs("f.retry", ["agent-1"], Date.now(), Date.now() + 60_000);
    await s.addJobOutput(j.id, "agent-1", first!.epoch, file("partial"), Date.now());
    const error = { category: "transient" as const, message: "boom" };
    await s.endAttempt(
      j.id,
      "agent-1",
      first!.epoch,
      { next: "queued", runAfter: 0, error, countsAsAttempt: true },
      Date.now(),
    );
    const [second] = await s.claimJobs("f.retry", ["agent-1"], Date.now(), Date.now() + 60_000);
    assert.equal(second!.id, j.id);
    assert.deepEqual((await s.getJob(j.id))!.outputFiles, []);
  });

  withStore("collectBlobs claims only unreferenced blobs past the grace, once", async (s) => {
    const t0 = 1_000_000;
    await s.addOwnedFiles("o", [file("loose"), file("input")], 10_000, t0);
    await s.insertJobs([newJob({ owner: "o", inputs: [{ name: "in.bin", hash: h("input"), size: 100 }] })]);
    assert.deepEqual(await s.collectBlobs(t0, 100), [], "nothing is older than the cutoff");
    assert.deepEqual(await s.collectBlobs(t0 + 1, 100), [h("loose")]);
    assert.deepEqual(await s.collectBlobs(t0 + 1, 100), [], "a claimed blob is gone for the next sweeper");
    assert.equal(await s.blobRecorded(h("loose")), false);
    assert.equal(await s.blobRecorded(h("input")), true);
    assert.equal(await s.fileUsage("o"), 100, "the collected blob left the owner's usage");
  });
}
