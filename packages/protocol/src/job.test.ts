import assert from "node:assert/strict";
import { test } from "node:test";
import { FileRef } from "./files.ts";

const hash = "a".repeat(64);

test("inputs[].name accepts relative paths", () => {
  for (const name of ["a.txt", "dir/b.bin", "x..y", ".hidden", "ü/ñ.txt"]) {
    assert.ok(FileRef.safeParse({ name, hash }).success, name);
  }
});

test("inputs[].name rejects traversal, absolute paths, NUL, control characters, backslashes and empty names", () => {
  for (const name of [
    "",
    "..",
    "../x",
    "a/../b",
    "a/..",
    "./a",
    "/etc/passwd",
    "C:x",
    "a\0b",
    "a\nb",
    "a\x7fb",
    "a\\b",
    "a//b",
    "a/",
  ]) {
    assert.equal(FileRef.safeParse({ name, hash }).success, false, JSON.stringify(name));
  }
});
