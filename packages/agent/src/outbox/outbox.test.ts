import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { Outbox } from "./outbox.ts";

const JOB = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gantry-outbox-"));

test("unacked messages survive a restart in order; acked ones do not", () => {
  const dir = tmp();
  const a = new Outbox({ dir, fsyncIntervalMs: 0 });
  const started = a.put({ type: "job:started", jobId: JOB, epoch: 1 });
  const done = a.put({ type: "job:completed", jobId: JOB, epoch: 1, output: { x: 1 } });
  a.commit();
  a.ack(started.ref);
  a.close();

  const b = new Outbox({ dir });
  assert.deepEqual([...b.entries()], [done]);
  assert.ok(b.hasTerminal(JOB));
  assert.deepEqual(b.heldJobs(), [{ jobId: JOB, epoch: 1 }]);
  const next = b.put({ type: "job:started", jobId: JOB, epoch: 2 });
  assert.ok(next.ref > done.ref, "refs keep rising across restarts");
  b.close();
});

test("a torn last line (crash mid-write) is ignored", () => {
  const dir = tmp();
  const a = new Outbox({ dir });
  const m = a.put({ type: "job:started", jobId: JOB, epoch: 1 });
  a.close();
  fs.appendFileSync(path.join(dir, "outbox.jsonl"), '{"p":{"type":"job:compl');
  const b = new Outbox({ dir });
  assert.deepEqual([...b.entries()], [m]);
  b.close();
});

test("compaction rewrites the journal with only live messages and keeps the ref sequence", () => {
  const dir = tmp();
  const a = new Outbox({ dir, compactAfter: 10 });
  let last = 0;
  for (let i = 0; i < 20; i++) {
    const m = a.put({ type: "job:started", jobId: JOB, epoch: i + 1 });
    a.commit();
    a.ack(m.ref);
    last = m.ref;
  }
  const keep = a.put({ type: "job:failed", jobId: JOB, epoch: 99, error: { category: "transient", message: "x" } });
  a.commit();
  a.close();
  const lines = fs.readFileSync(path.join(dir, "outbox.jsonl"), "utf8").trim().split("\n");
  assert.ok(lines.length < 10, `journal was compacted (${lines.length} lines)`);
  const b = new Outbox({ dir });
  assert.deepEqual([...b.entries()], [keep]);
  assert.ok(b.allocRef() > Math.max(last, keep.ref));
  b.close();
});

test("dropJob removes every message of a job at that epoch", () => {
  const dir = tmp();
  const a = new Outbox({ dir });
  a.put({ type: "job:started", jobId: JOB, epoch: 1 });
  a.put({ type: "job:progress", jobId: JOB, epoch: 1, progress: { percent: 50 } });
  const other = a.put({ type: "job:started", jobId: JOB, epoch: 2 });
  assert.equal(a.dropJob(JOB, 1), 2);
  assert.deepEqual([...a.entries()], [other]);
  a.close();
  const b = new Outbox({ dir });
  assert.deepEqual([...b.entries()], [other]);
  b.close();
});
