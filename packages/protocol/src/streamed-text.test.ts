import assert from "node:assert/strict";
import { test } from "node:test";
import { StreamedText } from "./streamed-text.ts";

test("tokens show once, in order; repeats and older attempts show nothing; the output fills gaps", () => {
  const s = new StreamedText();
  assert.equal(s.push({ epoch: 1, seq: 1, text: "he" }), "he");
  assert.equal(s.push({ epoch: 1, seq: 1, text: "he" }), "", "a repeat (a resent message)");
  assert.equal(s.push({ epoch: 1, seq: 3, text: "lo" }), "", "a gap: not shown out of order");
  assert.equal(s.finish("hello"), "llo", "the output adds what the stream missed");
  assert.equal(s.finish("hello"), "");
});

test("a retried attempt shows only text past what was already shown", () => {
  const s = new StreamedText();
  assert.equal(s.push({ epoch: 1, seq: 1, text: "abc" }), "abc");
  assert.equal(s.push({ epoch: 2, seq: 1, text: "ab" }), "");
  assert.equal(s.push({ epoch: 2, seq: 2, text: "cde" }), "de");
  assert.equal(s.push({ epoch: 1, seq: 2, text: "zzz" }), "", "the older attempt is over");
  assert.equal(s.finish("abcdef"), "f");
});
