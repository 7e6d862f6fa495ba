import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseFileArg } from "./file-args.ts";
import { parseByteSize } from "./option-parsers.ts";

const dir = mkdtempSync(join(tmpdir(), "gantry-file-args-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("--file takes PATH or NAME=PATH, repeatable, and refuses unsafe names, missing files and duplicates", () => {
  const a = join(dir, "a.txt");
  const eq = join(dir, "x=y.txt");
  writeFileSync(a, "a");
  writeFileSync(eq, "b");
  let files = parseFileArg(a);
  files = parseFileArg(`other.txt=${a}`, files);
  files = parseFileArg(eq, files);
  assert.deepEqual(files, [
    { name: "a.txt", path: a },
    { name: "other.txt", path: a },
    { name: "x=y.txt", path: eq },
  ]);
  assert.throws(() => parseFileArg(`../up=${a}`), /"\.\." segment/);
  assert.throws(() => parseFileArg(join(dir, "missing")), /not a readable file/);
  assert.throws(() => parseFileArg(dir), /not a readable file/);
  assert.throws(() => parseFileArg(a, files), /two files are named "a.txt"/);
});

test("byte sizes take K/M/G/T suffixes (binary)", () => {
  assert.equal(parseByteSize("1048576"), 1048576);
  assert.equal(parseByteSize("500M"), 500 * 1024 ** 2);
  assert.equal(parseByteSize("2G"), 2 * 1024 ** 3);
  assert.equal(parseByteSize("20GiB"), 20 * 1024 ** 3);
  assert.throws(() => parseByteSize("lots"));
  assert.throws(() => parseByteSize("0"));
});
