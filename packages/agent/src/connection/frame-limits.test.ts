import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentToServer } from "@gantry/protocol";
import { splitFrames } from "./frame-limits.ts";

const log = (n: number, bytes: number): AgentToServer => ({
  type: "job:log",
  ref: n,
  jobId: "01J0000000000000000000000A",
  epoch: 1,
  lines: [{ stream: "stdout", line: "x".repeat(bytes) }],
});

test("frames are cut by serialised bytes, in order; a message too big alone is set aside", () => {
  const msgs = [log(1, 400), log(2, 400), log(3, 5000), log(4, 400)];
  const { frames, oversized } = splitFrames(msgs, 1024);
  assert.deepEqual(
    frames.map((f) => f.messages.map((m) => ("ref" in m ? m.ref : 0))),
    [[1], [2], [4]],
  );
  for (const f of frames) {
    assert.ok(Buffer.byteLength(f.json) <= 1024);
    assert.deepEqual(JSON.parse(f.json), f.messages.length === 1 ? f.messages[0] : f.messages);
  }
  assert.deepEqual(
    oversized.map((o) => ("ref" in o.msg ? o.msg.ref : 0)),
    [3],
  );
  const one = splitFrames(msgs.slice(0, 2), 10_000).frames;
  assert.equal(one.length, 1);
  assert.deepEqual(JSON.parse(one[0]!.json), msgs.slice(0, 2));
});
