import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { AssignedJob } from "@gantry/protocol";
import { type JobOutcome, JobRunner } from "./job-runner.ts";
import { DEFAULT_SETTINGS, WorkerPool } from "./worker-pool.ts";

// Counts the jobs inside run() at once (per thread; the pool below has one) and reports the most seen.
const GAUGE = `data:text/javascript,${encodeURIComponent(`
let now = 0, most = 0;
export default { name: "t.gauge", detect: () => true, run: async (job) => {
  now++; most = Math.max(most, now);
  await new Promise((r) => setTimeout(r, Number(job.payload)));
  now--;
  return { most };
} }`)}`;

// The pool's threads are unref'd (they never keep an agent alive); this keeps the test's loop alive.
const keepAlive = setInterval(() => {}, 1000);
test.after(() => clearInterval(keepAlive));

const job = (id: string, payload: unknown): AssignedJob => ({
  id,
  capability: "t.gauge",
  payload,
  inputs: [],
  epoch: 1,
  attempt: 1,
  runtimeSecs: null,
  leaseExpiresAt: new Date(Date.now() + 60_000).toISOString(),
});

test("prefetched jobs wait for an executor slot; an abort while waiting ends the job without running it", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "gantry-runner-"));
  const pool = new WorkerPool(1, [GAUGE], undefined, 60_000, { ...DEFAULT_SETTINGS, dataDir });
  const outcomes = new Map<string, JobOutcome>();
  let settled!: () => void;
  const allDone = new Promise<void>((r) => {
    settled = r;
  });
  const runner = new JobRunner({
    pool,
    executors: new Set(["t.gauge"]),
    abortGraceMs: 1000,
    executorSlots: () => 2,
    events: {
      started: () => {},
      progress: () => {},
      log: () => {},
      finished: (j, outcome) => {
        outcomes.set(j.id, outcome);
        if (outcomes.size === 6) settled();
      },
    },
  });
  try {
    await pool.warm();
    for (let i = 0; i < 6; i++) runner.start(job(`j${i}`, 40));
    assert.equal(runner.size, 6); // all held: two run, four wait with their inputs ready
    assert.equal(runner.abort("j5", "cancel"), true);
    await allDone;
    assert.deepEqual(outcomes.get("j5"), { kind: "aborted", reason: "cancel" });
    for (let i = 0; i < 5; i++) {
      const o = outcomes.get(`j${i}`);
      assert.equal(o?.kind, "completed", `j${i}: ${JSON.stringify(o)}`);
      // Never more than the two slots inside executors at once.
      assert.ok((o as { output: { most: number } }).output.most <= 2, JSON.stringify(o));
    }
    assert.equal(runner.size, 0);
  } finally {
    await pool.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
