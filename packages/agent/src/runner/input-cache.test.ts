import assert from "node:assert/strict";
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { InputCache } from "./input-cache.ts";

const root = fs.mkdtempSync(path.join(tmpdir(), "gantry-cache-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function download(cache: InputCache, bytes: string): string {
  const tmp = cache.tempPath();
  fs.writeFileSync(tmp, bytes);
  return tmp;
}

test("a cached file is copied out; a job writing to its copy leaves the cache intact", async () => {
  const cache = new InputCache(path.join(root, "a"), 1000);
  const dest = path.join(root, "a-out-1");
  await cache.admit(download(cache, "hello"), "h1", 5, dest);
  assert.equal(fs.readFileSync(dest, "utf8"), "hello");
  fs.writeFileSync(dest, "spoiled");
  const again = path.join(root, "a-out-2");
  assert.equal(await cache.copyTo("h1", again, 5), true);
  assert.equal(fs.readFileSync(again, "utf8"), "hello");
  assert.equal(await cache.copyTo("h1", again, 6), false, "a size that does not match is a miss");
  assert.equal(await cache.copyTo("nope", again), false);
});

test("the cache stays under its bound, dropping the least recently used; a file bigger than the cache bypasses it", async () => {
  const cache = new InputCache(path.join(root, "b"), 10);
  const out = (n: string) => path.join(root, `b-${n}`);
  await cache.admit(download(cache, "aaaa"), "a", 4, out("a"));
  await cache.admit(download(cache, "bbbb"), "b", 4, out("b"));
  // Explicit ages (not the clock's resolution): a older than b…
  fs.utimesSync(path.join(cache.dir, "a"), 1000, 1000);
  fs.utimesSync(path.join(cache.dir, "b"), 2000, 2000);
  assert.equal(await cache.copyTo("a", out("a2")), true); // …until a is used again
  await cache.admit(download(cache, "cccc"), "c", 4, out("c"));
  assert.deepEqual(fs.readdirSync(cache.dir).sort(), ["a", "c"]);
  await cache.admit(download(cache, "x".repeat(11)), "big", 11, out("big"));
  assert.equal(fs.readFileSync(out("big"), "utf8"), "x".repeat(11));
  assert.ok(!fs.readdirSync(cache.dir).includes("big"));
});

test("partial downloads left by a crash are removed at start", () => {
  const dir = path.join(root, "c");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, ".tmp-left"), "x");
  new InputCache(dir, 10);
  assert.deepEqual(fs.readdirSync(dir), []);
});
