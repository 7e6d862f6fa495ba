import assert from "node:assert/strict";
import { test } from "node:test";
import { LINE_OVERHEAD, LogLimiter, MAX_LOG_LINE } from "./log-limiter.ts";

test("lines pass until the budget is spent, then one marker, then a count of what was dropped", () => {
  const out: string[] = [];
  const l = new LogLimiter(2 * (4 + LINE_OVERHEAD) + 1, (_s, line) => out.push(line));
  assert.equal(l.push("stdout", "abcd"), true);
  assert.equal(l.push("stdout", "efgh"), true);
  assert.equal(l.push("stdout", "ijkl"), true); // crosses the budget: sent, then the marker
  assert.equal(l.push("stdout", "mnop"), false);
  l.drop(100);
  l.finish();
  assert.deepEqual(out.slice(0, 3), ["abcd", "efgh", "ijkl"]);
  assert.match(out[3]!, /log truncated/);
  assert.match(out[4]!, /105 more bytes/);
  assert.equal(out.length, 5);
});

test("an oversized line counts only what the wire keeps of it", () => {
  const out: string[] = [];
  const l = new LogLimiter(2 * (MAX_LOG_LINE + LINE_OVERHEAD) + 1, (_s, line) => out.push(line));
  l.push("stderr", "x".repeat(MAX_LOG_LINE * 3));
  l.push("stderr", "x".repeat(MAX_LOG_LINE * 3));
  assert.equal(l.full, false);
  assert.equal(out.length, 2);
});
