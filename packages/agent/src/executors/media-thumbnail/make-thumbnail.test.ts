import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { MediaThumbnailPayload } from "@gantry/protocol";
import sharp from "sharp";
import { quietIO } from "../shared/plugin-io.ts";
import {
  assertFatal,
  makeBombPng,
  makeImage,
  makeNotMedia,
  makeVideo,
  tempDir,
  truncateCopy,
} from "../shared/test-media.ts";
import { makeThumbnail } from "./make-thumbnail.ts";

const params = (p: object) => MediaThumbnailPayload.parse(p);

test("image: cover fills the box exactly, inside keeps the aspect ratio", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "wide.png");
  await makeImage(src, 800, 400);
  const cover = await makeThumbnail({ path: src }, params({ width: 128, height: 128, fit: "cover" }), quietIO(dir));
  assert.deepEqual(cover.files, ["media_thumbnail.jpg"]);
  const meta = await sharp(join(dir, "media_thumbnail.jpg")).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 128, 128]);
  assert.equal(cover.output.source, "image");
  const inside = await makeThumbnail({ path: src }, params({ width: 128, height: 128, fit: "inside" }), quietIO(dir));
  assert.deepEqual([inside.output.width, inside.output.height], [128, 64]);
  const again = await sharp(join(dir, "media_thumbnail.jpg")).metadata();
  assert.deepEqual([again.width, again.height], [128, 64]);
});

test("video: a frame at at_secs, scaled; the frame is the testsrc picture, not black", async (t) => {
  const dir = await tempDir(t);
  const video = join(dir, "clip.mp4");
  await makeVideo(video, 3, 320, 240);
  const out = join(dir, "out");
  await import("node:fs/promises").then((fs) => fs.mkdir(out));
  const stages: string[] = [];
  const io = { ...quietIO(out), progress: (_: number, s: string) => stages.push(s) };
  const { output } = await makeThumbnail(
    { path: video },
    params({ width: 160, height: 90, fit: "cover", at_secs: 1.5 }),
    io,
  );
  assert.deepEqual(await readdir(out), ["media_thumbnail.jpg"]);
  assert.equal(output.source, "video");
  assert.equal(output.at_secs, 1.5);
  const file = sharp(join(out, "media_thumbnail.jpg"));
  const meta = await file.metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ["jpeg", 160, 90]);
  const { channels } = await file.stats();
  assert.ok(
    channels.some((c) => c.stdev > 20),
    "testsrc has colour bars, so the frame varies",
  );
  assert.deepEqual([stages[0], stages.at(-1)], ["reading", "done"]);
  // Past the end: clamped to the last frame rather than failing.
  const late = await makeThumbnail({ path: video }, params({ at_secs: 99 }), quietIO(out));
  assert.ok(late.output.at_secs! < 3);
});

test("bad input fails fatally: not media, truncated video, decompression bomb", async (t) => {
  const dir = await tempDir(t);
  const io = quietIO(dir);
  const text = join(dir, "x.mp4");
  await makeNotMedia(text);
  await assertFatal(makeThumbnail({ path: text }, params({}), io), /neither a supported image nor a video/);
  const video = join(dir, "clip.mp4");
  await makeVideo(video, 2, 160, 120);
  const cut = join(dir, "cut.mp4");
  await truncateCopy(video, cut, 0.3);
  await assertFatal(makeThumbnail({ path: cut }, params({}), io), /video|frame|ffmpeg failed/);
  const bomb = join(dir, "bomb.png");
  await makeBombPng(bomb);
  await assertFatal(makeThumbnail({ path: bomb }, params({}), io), /pixel limit/);
});

test("an aborted job stops with the abort reason", async (t) => {
  const dir = await tempDir(t);
  const video = join(dir, "clip.mp4");
  await makeVideo(video, 2, 160, 120);
  const controller = new AbortController();
  controller.abort(new Error("cancelled"));
  await assert.rejects(makeThumbnail({ path: video }, params({}), quietIO(dir, controller.signal)), /cancelled/);
});
