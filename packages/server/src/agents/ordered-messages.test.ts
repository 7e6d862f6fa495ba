import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentToServer, ServerToAgent } from "@gantry/protocol";
import { handleInOrder, SLICE } from "./ordered-messages.ts";

const JOB = "01J0000000000000000000000A";
const tick = () => new Promise((r) => setImmediate(r));

test("ordered messages: a heartbeat waits for the job messages before it, and they for it", async () => {
  const log: string[] = [];
  const handle = async (m: AgentToServer): Promise<ServerToAgent[]> => {
    log.push(`start ${m.type}`);
    // job:failed reads before it writes; a heartbeat must not overtake it.
    await tick();
    await tick();
    log.push(`end ${m.type}`);
    return "ref" in m ? [{ type: "ack", ref: m.ref }] : [];
  };
  const replies: ServerToAgent[] = [];
  await handleInOrder(
    [
      { type: "job:failed", ref: 1, jobId: JOB, epoch: 1, error: { category: "fatal", message: "x" } },
      { type: "heartbeat", status: "idle", running: [] },
      { type: "job:started", ref: 2, jobId: JOB, epoch: 2 },
    ],
    handle,
    (r) => replies.push(...r),
  );
  assert.deepEqual(log, [
    "start job:failed",
    "end job:failed",
    "start heartbeat",
    "end heartbeat",
    "start job:started",
    "end job:started",
  ]);
  assert.deepEqual(
    replies.map((r) => (r.type === "ack" ? r.ref : r.type)),
    [1, 2],
  );
});

test("ordered messages: a bad message is refused alone; a big batch goes out in slices", async () => {
  const sends: number[] = [];
  const raw: unknown[] = [{ type: "job:started", ref: 7, jobId: "nope", epoch: 1 }, { type: "bogus" }];
  for (let i = 0; i < SLICE * 2; i++) raw.push({ type: "job:started", ref: 100 + i, jobId: JOB, epoch: 1 });
  const replies: ServerToAgent[] = [];
  await handleInOrder(
    raw,
    async (m) => ("ref" in m ? [{ type: "ack", ref: m.ref }] : []),
    (r) => {
      sends.push(r.length);
      replies.push(...r);
    },
  );
  assert.equal(replies[0]?.type, "nack");
  assert.equal(replies[1]?.type, "error");
  assert.ok(sends.length >= 2, "replies leave per slice, not all at the end");
  const acks = replies.filter((r) => r.type === "ack").map((r) => (r as { ref: number }).ref);
  assert.deepEqual(
    acks,
    raw.slice(2).map((_, i) => 100 + i),
  );
});
