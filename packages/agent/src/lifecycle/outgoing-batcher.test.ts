import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { type AgentToServer, type AssignedJob, TOKENS_TEXT_MAX } from "@gantry/protocol";
import { Outbox } from "../outbox/outbox.ts";
import { OutgoingBatcher, splitText } from "./outgoing-batcher.ts";

const job = (epoch: number): AssignedJob => ({
  id: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
  capability: "llm.x",
  payload: {},
  inputs: [],
  epoch,
  attempt: epoch,
  runtimeSecs: null,
  leaseExpiresAt: new Date().toISOString(),
});

function batcher() {
  const outbox = new Outbox({ dir: fs.mkdtempSync(path.join(os.tmpdir(), "gantry-batcher-")), fsyncIntervalMs: 0 });
  const out = new OutgoingBatcher({ outbox, link: () => null, onUnsendable: () => {} });
  const tokens = () =>
    [...outbox.entries()].filter((m): m is Extract<AgentToServer, { type: "job:tokens" }> => m.type === "job:tokens");
  return { out, outbox, tokens };
}

test("a turn's tokens leave as one message; seq counts per attempt and starts again after the final message", () => {
  const { out, outbox, tokens } = batcher();
  for (const t of ["a", "b", "c"]) out.tokens(job(1), t);
  out.flush();
  out.tokens(job(1), "d");
  out.flush();
  assert.deepEqual(
    tokens().map((m) => [m.epoch, m.seq, m.text]),
    [
      [1, 1, "abc"],
      [1, 2, "d"],
    ],
  );
  out.put({ type: "job:failed", jobId: job(1).id, epoch: 1, error: { category: "inference", message: "x" } });
  out.tokens(job(2), "e");
  out.flush();
  assert.deepEqual(tokens().at(-1)?.seq, 1, "a new attempt counts from 1");
  assert.equal(tokens().at(-1)?.epoch, 2);
  outbox.close();
});

test("a turn longer than a message is split at TOKENS_TEXT_MAX, never inside a surrogate pair", () => {
  const { out, outbox, tokens } = batcher();
  const text = `${"x".repeat(TOKENS_TEXT_MAX - 1)}😀${"y".repeat(TOKENS_TEXT_MAX + 5)}`;
  out.tokens(job(1), text);
  out.flush();
  const msgs = tokens();
  assert.equal(msgs.map((m) => m.text).join(""), text, "nothing lost");
  assert.deepEqual(
    msgs.map((m) => m.seq),
    msgs.map((_, i) => i + 1),
  );
  assert.ok(msgs.every((m) => m.text.length <= TOKENS_TEXT_MAX && m.text.length > 0));
  assert.ok(!msgs[0]!.text.endsWith("\ud83d"), "the emoji stays whole");
  assert.deepEqual(splitText("", 3), []);
  outbox.close();
});
