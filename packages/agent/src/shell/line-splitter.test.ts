import assert from "node:assert/strict";
import { test } from "node:test";
import { LineSplitter, MAX_LINE } from "./line-splitter.ts";

test("lines across chunks, CRLF, a multi-byte character split between chunks, and the last unterminated line", () => {
  const lines: string[] = [];
  const s = new LineSplitter(
    (l) => lines.push(l) > 0,
    () => {},
  );
  const euro = Buffer.from("€");
  s.push(Buffer.from("one\r\ntw"));
  s.push(Buffer.concat([Buffer.from("o\n"), euro.subarray(0, 1)]));
  s.push(Buffer.concat([euro.subarray(1), Buffer.from("\nlast")]));
  s.end();
  assert.deepEqual(lines, ["one", "two", "€", "last"]);
});

test("a line without a newline is cut, so the buffer stays bounded", () => {
  const lines: string[] = [];
  const s = new LineSplitter(
    (l) => lines.push(l) > 0,
    () => {},
  );
  for (let i = 0; i < 10; i++) s.push(Buffer.alloc(MAX_LINE, "x"));
  assert.equal(lines.length, 9);
  assert.ok(lines.every((l) => l.length === MAX_LINE));
});

test("once the sink refuses, the rest is only counted", () => {
  let n = 0;
  let skipped = 0;
  const s = new LineSplitter(
    () => ++n < 2,
    (b) => (skipped += b),
  );
  s.push(Buffer.from("a\nb\nc\n"));
  s.push(Buffer.from("0123456789"));
  assert.equal(n, 2);
  assert.equal(skipped, 2 + 10);
});
