import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { FaceDetectionPayload } from "@gantry/protocol";
import sharp from "sharp";
import { quietIO } from "../shared/plugin-io.ts";
import { assertFatal, makeBombPng, makeNotMedia, tempDir, truncateCopy } from "../shared/test-media.ts";
import { detectFaces } from "./detect-faces.ts";
import { composeScene } from "./face-scenes.ts";

const params = FaceDetectionPayload.parse({});
type Box = { x: number; y: number; width: number; height: number };
const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x &&
  inner.y >= outer.y &&
  inner.x + inner.width <= outer.x + outer.width &&
  inner.y + inner.height <= outer.y + outer.height;

test("finds both faces of a scene composed from face-api's sample photo, with landmarks and crops", async (t) => {
  const dir = await tempDir(t);
  const scene = join(dir, "scene.jpg");
  // Square, because SSD squashes its input to 512×512 and a squashed face scores lower.
  const regions = await composeScene(scene, [
    { person: "left", x: 40, y: 60 },
    { person: "right", x: 520, y: 60 },
  ]);
  const out = join(dir, "out");
  await import("node:fs/promises").then((fs) => fs.mkdir(out));
  const { output, files } = await detectFaces({ path: scene }, params, quietIO(out));
  assert.deepEqual([output.width, output.height], [1000, 1000]);
  assert.equal(output.faces.length, 2, JSON.stringify(output.faces.map((f) => [f.box, f.confidence])));
  assert.deepEqual((await readdir(out)).sort(), ["face_detection_0.jpg", "face_detection_1.jpg"]);
  assert.deepEqual(files.sort(), ["face_detection_0.jpg", "face_detection_1.jpg"]);
  const byX = [...output.faces].sort((a, b) => a.box.x - b.box.x);
  byX.forEach((face, i) => {
    assert.ok(face.confidence > 0.7, `confidence ${face.confidence}`);
    assert.ok(inside(face.box, regions[i]!), `face ${JSON.stringify(face.box)} lies in ${JSON.stringify(regions[i])}`);
    assert.ok(face.box.width > 80 && face.box.height > 80, "a head of ~420 px has a face of >80 px");
    assert.equal(face.landmarks.length, 68);
    const grown = { x: face.box.x - 40, y: face.box.y - 40, width: face.box.width + 80, height: face.box.height + 80 };
    for (const [x, y] of face.landmarks)
      assert.ok(inside({ x, y, width: 0, height: 0 }, grown), "landmarks sit on the face");
  });
  for (const face of output.faces) {
    const meta = await sharp(join(out, face.crop_path)).metadata();
    assert.equal(meta.format, "jpeg");
    assert.ok(Math.abs(meta.width! - face.box.width) <= 2 && Math.abs(meta.height! - face.box.height) <= 2);
  }
});

test("a picture with no face gives no faces and no files", async (t) => {
  const dir = await tempDir(t);
  const empty = join(dir, "empty.jpg");
  await composeScene(empty, []);
  const { output, files } = await detectFaces({ path: empty }, params, quietIO(dir));
  assert.deepEqual([output.faces, files], [[], []]);
});

test("bad input fails fatally: not an image, truncated, decompression bomb", async (t) => {
  const dir = await tempDir(t);
  const io = quietIO(dir);
  const text = join(dir, "x.jpg");
  await makeNotMedia(text);
  await assertFatal(detectFaces({ path: text }, params, io), /not an image/);
  const scene = join(dir, "scene.jpg");
  await composeScene(scene, [{ person: "left", x: 10, y: 10 }]);
  const cut = join(dir, "cut.jpg");
  await truncateCopy(scene, cut, 0.5);
  await assertFatal(detectFaces({ path: cut }, params, io), /cannot decode image/);
  const bomb = join(dir, "bomb.png");
  await makeBombPng(bomb);
  await assertFatal(detectFaces({ path: bomb }, params, io), /pixel limit/);
});
