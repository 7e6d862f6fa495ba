import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { HlsStreamingPayload } from "@gantry/protocol";
import { quietIO } from "../shared/plugin-io.ts";
import { runTool } from "../shared/run-tool.ts";
import {
  assertFatal,
  makeBombPng,
  makeImage,
  makeNotMedia,
  makeVideo,
  tempDir,
  truncateCopy,
} from "../shared/test-media.ts";
import { planLadder } from "./hls-ladder.ts";
import { parseMasterPlaylist, parseMediaPlaylist } from "./hls-playlist.ts";
import { makeHls } from "./make-hls.ts";

const never = new AbortController().signal;

async function probeSegment(path: string) {
  const args = ["-v", "error", "-print_format", "json", "-show_streams", path];
  const json = JSON.parse(await runTool("ffprobe", args, { signal: never, timeoutMs: 30_000, maxStdout: 1 << 20 }));
  return json.streams as { codec_type: string; codec_name: string; width?: number; height?: number }[];
}

test("720p source → 360p and 720p: master playlist parses, variant playlists complete, ffprobe reads a segment", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src.mp4");
  await makeVideo(src, 3, 1280, 720);
  const out = join(dir, "out");
  await import("node:fs/promises").then((fs) => fs.mkdir(out));
  const percents: number[] = [];
  const io = { ...quietIO(out), progress: (p: number) => percents.push(p) };
  const { output, files } = await makeHls({ path: src }, HlsStreamingPayload.parse({ segment_secs: 1 }), io);

  assert.equal(output.output_path, "hls_streaming.m3u8");
  assert.deepEqual((await readdir(out)).sort(), [...files].sort());
  const master = parseMasterPlaylist(await readFile(join(out, output.output_path), "utf8"));
  assert.deepEqual(
    master.map((e) => [e.uri, e.resolution]),
    [
      ["hls_streaming_360p.m3u8", { width: 640, height: 360 }],
      ["hls_streaming_720p.m3u8", { width: 1280, height: 720 }],
    ],
  );
  assert.ok(master[0]!.bandwidth < master[1]!.bandwidth);
  for (const variant of output.variants) {
    const media = parseMediaPlaylist(await readFile(join(out, variant.playlist), "utf8"));
    assert.ok(media.ended);
    assert.deepEqual(media.segments, variant.segments);
    assert.ok(media.segments.length >= 2, "3 s in 1 s segments");
    const total = media.durations.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 3) < 0.5, `segments add up to the video: ${total}`);
    const streams = await probeSegment(join(out, variant.segments[0]!));
    const v = streams.find((s) => s.codec_type === "video");
    assert.deepEqual([v?.codec_name, v?.width, v?.height], ["h264", variant.width, variant.height]);
    assert.ok(streams.some((s) => s.codec_type === "audio" && s.codec_name === "aac"));
  }
  assert.equal(percents.at(-1), 100);
  assert.deepEqual(
    percents,
    [...percents].sort((a, b) => a - b),
    "progress only rises",
  );
});

test("a small source gets only the renditions it allows, never upscaled", async (t) => {
  assert.deepEqual(
    planLadder(["360p", "720p"], { width: 640, height: 360 }).map((r) => [r.name, r.width, r.height]),
    [["360p", 640, 360]],
  );
  assert.deepEqual(
    planLadder(["720p", "360p"], { width: 320, height: 240 }).map((r) => [r.name, r.width, r.height]),
    [["360p", 320, 240]],
  );
  const dir = await tempDir(t);
  const src = join(dir, "small.mp4");
  await makeVideo(src, 1, 320, 240);
  const { output } = await makeHls({ path: src }, HlsStreamingPayload.parse({}), quietIO(dir));
  assert.deepEqual(
    output.variants.map((v) => [v.name, v.width, v.height]),
    [["360p", 320, 240]],
  );
});

test("bad input fails fatally: not a video, an image, truncated video", async (t) => {
  const dir = await tempDir(t);
  const io = quietIO(dir);
  const params = HlsStreamingPayload.parse({});
  const text = join(dir, "x.mp4");
  await makeNotMedia(text);
  await assertFatal(makeHls({ path: text }, params, io), /not a readable video/);
  const cut = join(dir, "cut.mp4");
  const src = join(dir, "src.mp4");
  await makeVideo(src, 2, 160, 120);
  await truncateCopy(src, cut, 0.5);
  await assertFatal(makeHls({ path: cut }, params, io), /not a readable video|ffmpeg failed|incomplete/);
  const bomb = join(dir, "bomb.png");
  await makeBombPng(bomb, 9000);
  await assertFatal(makeHls({ path: bomb }, params, io), /pixel limit|no video stream|not a readable video/);
  const still = join(dir, "still.png");
  await makeImage(still, 64, 64);
  await assertFatal(makeHls({ path: still }, params, io), /still image, not a video/);
});

test("abort kills ffmpeg and rejects with the reason", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "src.mp4");
  await makeVideo(src, 3, 640, 360);
  const controller = new AbortController();
  const io = {
    ...quietIO(dir, controller.signal),
    progress: (_: number, stage: string) => {
      if (stage === "encoding") controller.abort(new Error("cancelled by user"));
    },
  };
  await assert.rejects(makeHls({ path: src }, HlsStreamingPayload.parse({}), io), /cancelled by user/);
});
