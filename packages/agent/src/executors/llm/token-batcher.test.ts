import assert from "node:assert/strict";
import { test } from "node:test";
import { batchPerTurn } from "./token-batcher.ts";

test("text of one turn goes out as one call, in order", async () => {
  const calls: string[] = [];
  const b = batchPerTurn((t) => calls.push(t));
  for (const t of ["a", "b", "c"]) b.push(t);
  await new Promise((r) => setImmediate(r));
  b.push("d");
  b.flush();
  b.flush();
  assert.deepEqual(calls, ["abc", "d"]);
});
