import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { PROGRESS_MIN_BYTES, progressBar } from "./progress-bar.ts";

function terminal(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 }) as unknown as NodeJS.WriteStream;
  let text = "";
  (stream as unknown as PassThrough).on("data", (d) => (text += d));
  return { stream, text: () => text };
}

test("a bar is drawn on a terminal for a large file", () => {
  const t = terminal(true);
  const bar = progressBar("upload big.bin", t.stream);
  bar.update(PROGRESS_MIN_BYTES, PROGRESS_MIN_BYTES * 2);
  bar.update(PROGRESS_MIN_BYTES * 2, PROGRESS_MIN_BYTES * 2);
  bar.stop();
  assert.match(t.text(), /upload big\.bin/);
  assert.match(t.text(), /100%/);
});

test("nothing is drawn off a terminal, or for a small file", () => {
  const pipe = terminal(false);
  const a = progressBar("upload big.bin", pipe.stream);
  a.update(PROGRESS_MIN_BYTES * 2, PROGRESS_MIN_BYTES * 2);
  a.stop();
  assert.equal(pipe.text(), "");
  const tty = terminal(true);
  const b = progressBar("upload small.bin", tty.stream);
  b.update(1000, 1000);
  b.stop();
  assert.equal(tty.text(), "");
});
