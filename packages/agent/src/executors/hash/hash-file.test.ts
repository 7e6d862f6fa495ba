import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { quietIO } from "../shared/plugin-io.ts";
import { assertFatal, makeBombPng, makeImage, makeNotMedia, tempDir, truncateCopy } from "../shared/test-media.ts";
import { hashFile } from "./hash-file.ts";
import { hammingDistance } from "./perceptual-hash.ts";

test("a slightly resized, re-encoded copy hashes near; a different picture hashes far", async (t) => {
  const dir = await tempDir(t);
  const [a, aSmall, b] = ["a.png", "a-small.jpg", "b.png"].map((n) => join(dir, n)) as [string, string, string];
  await makeImage(a, 640, 480, 0);
  await sharp(a).resize(600, 450).jpeg({ quality: 80 }).toFile(aSmall);
  await makeImage(b, 640, 480, 1);
  const io = quietIO(dir);
  const [ha, hs, hb] = [
    (await hashFile({ path: a }, {}, io)).output,
    (await hashFile({ path: aSmall }, {}, io)).output,
    (await hashFile({ path: b }, {}, io)).output,
  ];
  for (const h of [ha, hs, hb]) {
    assert.match(h.phash, /^[0-9a-f]{16}$/);
    assert.match(h.dhash, /^[0-9a-f]{16}$/);
  }
  assert.ok(hammingDistance(ha.phash, hs.phash) <= 6, `phash near: ${ha.phash} vs ${hs.phash}`);
  assert.ok(hammingDistance(ha.dhash, hs.dhash) <= 6, `dhash near: ${ha.dhash} vs ${hs.dhash}`);
  assert.ok(hammingDistance(ha.phash, hb.phash) >= 16, `phash far: ${ha.phash} vs ${hb.phash}`);
  assert.ok(hammingDistance(ha.dhash, hb.dhash) >= 16, `dhash far: ${ha.dhash} vs ${hb.dhash}`);
});

test("md5 and sha256 are of the file's bytes; hashing is deterministic", async (t) => {
  const dir = await tempDir(t);
  const a = join(dir, "a.png");
  await makeImage(a, 200, 100);
  const bytes = await readFile(a);
  const first = (await hashFile({ path: a }, {}, quietIO(dir))).output;
  assert.equal(first.md5, createHash("md5").update(bytes).digest("hex"));
  assert.equal(first.sha256, createHash("sha256").update(bytes).digest("hex"));
  assert.deepEqual((await hashFile({ path: a }, {}, quietIO(dir))).output, first);
});

test("hamming distance counts differing bits", () => {
  assert.equal(hammingDistance("0000000000000000", "ffffffffffffffff"), 64);
  assert.equal(hammingDistance("8000000000000001", "0000000000000000"), 2);
});

test("bad input fails fatally: not an image, truncated, decompression bomb", async (t) => {
  const dir = await tempDir(t);
  const io = quietIO(dir);
  const text = join(dir, "x.png");
  await makeNotMedia(text);
  await assertFatal(hashFile({ path: text }, {}, io), /not an image/);
  const good = join(dir, "good.png");
  await makeImage(good, 400, 300);
  const cut = join(dir, "cut.png");
  await truncateCopy(good, cut, 0.5);
  await assertFatal(hashFile({ path: cut }, {}, io), /cannot decode image/);
  const bomb = join(dir, "bomb.png");
  await makeBombPng(bomb);
  await assertFatal(hashFile({ path: bomb }, {}, io), /pixel limit/);
});
