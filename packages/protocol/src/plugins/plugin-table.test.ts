import assert from "node:assert/strict";
import { test } from "node:test";
import { isPluginCapability, PLUGINS, pluginPayloadProblem } from "./plugin-table.ts";

test("the nine capability names of the CL client (seed 001)", () => {
  assert.deepEqual(Object.keys(PLUGINS).sort(), [
    "clip_embedding",
    "dino_embedding",
    "exif",
    "face_detection",
    "face_embedding",
    "hash",
    "hls_streaming",
    "image_conversion",
    "media_thumbnail",
  ]);
  assert.equal(isPluginCapability("hash"), true);
  assert.equal(isPluginCapability("toString"), false);
});

test("payload defaults are filled in and bad parameters refused", () => {
  assert.deepEqual(PLUGINS.image_conversion.payload.parse({ output_format: "jpg" }), {
    output_format: "jpg",
    quality: 85,
  });
  assert.equal(PLUGINS.image_conversion.payload.safeParse({ output_format: "bmp" }).success, false);
  assert.equal(PLUGINS.image_conversion.payload.safeParse({ output_format: "png", quality: 0 }).success, false);
  assert.deepEqual(PLUGINS.media_thumbnail.payload.parse({}), { width: 256, height: 256, fit: "cover" });
  assert.deepEqual(PLUGINS.hls_streaming.payload.parse({}), { variants: ["360p", "720p"], segment_secs: 4 });
  assert.equal(PLUGINS.hls_streaming.payload.safeParse({ variants: ["4k"] }).success, false);
  assert.deepEqual(PLUGINS.face_detection.payload.parse({}), { min_confidence: 0.5, max_faces: 20 });
  assert.deepEqual(PLUGINS.clip_embedding.payload.parse({}), {});
});

test("perceptual hashes must be 64-bit hex", () => {
  const ok = { phash: "0123456789abcdef", dhash: "fedcba9876543210", md5: "0".repeat(32), sha256: "0".repeat(64) };
  assert.equal(PLUGINS.hash.output.safeParse(ok).success, true);
  assert.equal(PLUGINS.hash.output.safeParse({ ...ok, phash: "0123" }).success, false);
});

test("pluginPayloadProblem names the bad field, and ignores other capabilities", () => {
  assert.match(pluginPayloadProblem("image_conversion", { output_format: "bmp" }) ?? "", /^output_format: /);
  assert.match(pluginPayloadProblem("image_conversion[fast]", undefined) ?? "", /^output_format: /);
  assert.equal(pluginPayloadProblem("image_conversion", { output_format: "png" }), null);
  assert.equal(pluginPayloadProblem("hash", undefined), null);
  assert.equal(pluginPayloadProblem("debug.echo", { anything: true }), null);
});
