import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { FaceEmbeddingPayload } from "@gantry/protocol";
import { composeScene } from "../face-detection/face-scenes.ts";
import { quietIO } from "../shared/plugin-io.ts";
import { assertFatal, makeNotMedia, tempDir } from "../shared/test-media.ts";
import { readNpy } from "../shared/write-npy.ts";
import { embedFaces } from "./embed-faces.ts";

const params = FaceEmbeddingPayload.parse({});
const distance = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]!));

test("one 128-d vector per face with its box: the same person near, another person far", async (t) => {
  const dir = await tempDir(t);
  const [big, small, other] = ["big.jpg", "small.jpg", "other.jpg"].map((n) => join(dir, n)) as [
    string,
    string,
    string,
  ];
  await composeScene(big, [{ person: "left", x: 100, y: 100 }]);
  await composeScene(small, [{ person: "left", x: 400, y: 200, scale: 0.6 }]);
  await composeScene(other, [{ person: "right", x: 200, y: 120 }]);
  const aDir = await tempDir(t);
  const [a, b, c] = [
    await embedFaces({ path: big }, params, quietIO(aDir)),
    await embedFaces({ path: small }, params, quietIO(await tempDir(t))),
    await embedFaces({ path: other }, params, quietIO(dir)),
  ];
  for (const r of [a, b, c]) {
    assert.equal(r.output.faces.length, 1);
    assert.equal(r.output.embedding_dim, 128);
    assert.equal(r.output.faces[0]!.embedding.length, 128);
  }
  assert.ok(a.output.faces[0]!.box.x > 100 && a.output.faces[0]!.box.x < 520);
  const same = distance(a.output.faces[0]!.embedding, b.output.faces[0]!.embedding);
  const different = distance(a.output.faces[0]!.embedding, c.output.faces[0]!.embedding);
  assert.ok(same < 0.4, `same person at two sizes: ${same}`);
  assert.ok(different > 0.5 && different > same, `two people: ${different} (same: ${same})`);
  // Each run had its own output directory; read back the first one's file.
  const npy = readNpy(await readFile(join(aDir, a.output.output_path!)));
  assert.deepEqual(npy.shape, [1, 128]);
  assert.deepEqual(Array.from(npy.data), a.output.faces[0]!.embedding);
});

test("no face: an empty list and no file; not an image: fatal", async (t) => {
  const dir = await tempDir(t);
  const empty = join(dir, "empty.jpg");
  await composeScene(empty, []);
  const r = await embedFaces({ path: empty }, params, quietIO(dir));
  assert.deepEqual([r.output.faces, r.output.output_path, r.files], [[], null, []]);
  const text = join(dir, "x.jpg");
  await makeNotMedia(text);
  await assertFatal(embedFaces({ path: text }, params, quietIO(dir)), /not an image/);
});
