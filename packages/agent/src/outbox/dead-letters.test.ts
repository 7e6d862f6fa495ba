import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DeadLetters } from "./dead-letters.ts";
import type { JobMessage } from "./outbox.ts";

test("dead letters persist, keep large messages as a header only, and stay bounded", () => {
  const dir = mkdtempSync(join(tmpdir(), "gantry-dl-"));
  try {
    const dl = new DeadLetters({ dir, max: 3 });
    const msg = (ref: number, line = "x"): JobMessage => ({
      type: "job:log",
      ref,
      jobId: "01J0000000000000000000000A",
      epoch: 1,
      lines: [{ stream: "stdout", line }],
    });
    dl.add(msg(1, "y".repeat(100_000)), "too large to send");
    dl.add(msg(2), "refused", { status: 400, code: "agent_protocol_error" });
    assert.equal(dl.count, 2);
    assert.deepEqual(dl.list()[0]!.message, {
      type: "job:log",
      jobId: "01J0000000000000000000000A",
      epoch: 1,
      ref: 1,
      bytes: 100_113,
    });
    assert.equal(dl.list()[1]!.code, "agent_protocol_error");
    for (let r = 3; r <= 10; r++) dl.add(msg(r), "refused");
    const again = new DeadLetters({ dir, max: 3 });
    assert.equal(again.count, 3);
    assert.deepEqual(
      again.list().map((e) => e.message.ref),
      [8, 9, 10],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
