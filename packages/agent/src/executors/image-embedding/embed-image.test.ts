import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { CLIP_MODEL } from "../clip-embedding/clip-model.ts";
import { DINO_MODEL } from "../dino-embedding/dino-model.ts";
import { quietIO } from "../shared/plugin-io.ts";
import { assertFatal, makeBombPng, makeImage, makeNotMedia, makeSolid, tempDir } from "../shared/test-media.ts";
import { readNpy } from "../shared/write-npy.ts";
import { embedImage } from "./embed-image.ts";
import type { EmbeddingModel } from "./embedding-model.ts";
import { missingModel } from "./onnx-session.ts";
import { writePoolingModel } from "./onnx-test-model.ts";

async function modelsDir(t: Parameters<typeof tempDir>[0], model: EmbeddingModel, output: string) {
  const dir = await tempDir(t);
  await writePoolingModel(join(dir, model.file), { dim: model.dim, input: "pixel_values", output });
  return dir;
}

/** 2:1 picture: black quarters left and right, a coloured middle half that the centre crop keeps. */
async function framedImage(path: string, width: number, rgb: [number, number, number]) {
  const height = width / 2;
  const middle = { r: rgb[0], g: rgb[1], b: rgb[2] };
  const band = await sharp({ create: { width: width / 2, height, channels: 3, background: middle } })
    .png()
    .toBuffer();
  await sharp({ create: { width, height, channels: 3, background: "#000" } })
    .composite([{ input: band, left: width / 4, top: 0 }])
    .png()
    .toFile(path);
}

function assertClose(actual: number[], expected: number[], tolerance: number) {
  for (const [c, v] of actual.entries()) {
    assert.ok(Math.abs(v - expected[c]!) < tolerance, `channel ${c}: ${v}, expected ${expected[c]}`);
  }
}

for (const [model, output] of [
  [CLIP_MODEL, "image_embeds"],
  [DINO_MODEL, "pooler_output"],
] as const) {
  test(`${model.capability}: ${model.dim}-d vector, deterministic, in JSON and .npy`, async (t) => {
    const models = await modelsDir(t, model, output);
    const out = await tempDir(t);
    const img = join(out, "in.png");
    await makeImage(img, 500, 375);
    const stages: string[] = [];
    const io = { ...quietIO(out), progress: (_: number, s: string) => stages.push(s) };
    const first = await embedImage({ path: img }, {}, model, models, io);
    assert.equal(first.output.embedding_dim, model.dim);
    assert.equal(first.output.embedding.length, model.dim);
    assert.deepEqual(first.files, [`${model.capability}.npy`]);
    const npy = readNpy(await readFile(join(out, first.output.output_path)));
    assert.deepEqual(npy.shape, [model.dim]);
    assert.deepEqual(Array.from(npy.data), first.output.embedding);
    const again = await embedImage({ path: img }, {}, model, models, quietIO(out));
    assert.deepEqual(again.output.embedding, first.output.embedding);
    const other = join(out, "other.png");
    await makeImage(other, 500, 375, 1);
    const different = await embedImage({ path: other }, {}, model, models, quietIO(out));
    assert.notDeepEqual(different.output.embedding, first.output.embedding);
    assert.deepEqual([stages[0], stages.at(-1)], ["loading model", "done"]);
  });

  test(`${model.capability}: published normalisation constants and centre crop`, async (t) => {
    const models = await modelsDir(t, model, output);
    const out = await tempDir(t);
    const rgb: [number, number, number] = [200, 120, 40];
    const expected = rgb.map((v, c) => (v / 255 - model.preprocess.mean[c]!) / model.preprocess.std[c]!);
    const solid = join(out, "solid.png");
    await makeSolid(solid, 300, 300, rgb);
    const flat = (await embedImage({ path: solid }, {}, model, models, quietIO(out))).output.embedding;
    assertClose(flat.slice(0, 3), expected, 1e-4);
    // Resized to the short side then centre-cropped, only the coloured middle half is seen;
    // squashing the whole frame instead would pull each channel towards black.
    const framed = join(out, "framed.png");
    await framedImage(framed, 2 * model.preprocess.resizeShortest, rgb);
    const cropped = (await embedImage({ path: framed }, {}, model, models, quietIO(out))).output.embedding;
    assertClose(cropped.slice(0, 3), expected, 1e-3);
  });
}

test("a model of the wrong width fails as a model error naming the shapes", async (t) => {
  const models = await modelsDir(t, { ...CLIP_MODEL, dim: 256 }, "image_embeds");
  const img = join(models, "in.png");
  await makeImage(img, 64, 64);
  await assert.rejects(embedImage({ path: img }, {}, CLIP_MODEL, models, quietIO(models)), (err: any) => {
    assert.equal(err.category, "model");
    assert.match(err.message, /\[1, 256\], expected float32 \[1, 512\]/);
    return true;
  });
});

test("detect: an absent model file is named as the reason", async (t) => {
  const dir = await tempDir(t);
  assert.match((await missingModel(join(dir, "clip_embedding.onnx"))) ?? "", /clip_embedding\.onnx is absent/);
  await writePoolingModel(join(dir, "clip_embedding.onnx"), {
    dim: 512,
    input: "pixel_values",
    output: "image_embeds",
  });
  assert.equal(await missingModel(join(dir, "clip_embedding.onnx")), null);
});

test("bad input fails fatally: not an image, truncated, decompression bomb; a corrupt model is a model error", async (t) => {
  const models = await modelsDir(t, CLIP_MODEL, "image_embeds");
  const io = quietIO(models);
  const text = join(models, "x.png");
  await makeNotMedia(text);
  await assertFatal(embedImage({ path: text }, {}, CLIP_MODEL, models, io), /not an image/);
  const bomb = join(models, "bomb.png");
  await makeBombPng(bomb);
  await assertFatal(embedImage({ path: bomb }, {}, CLIP_MODEL, models, io), /pixel limit/);
  const good = join(models, "good.png");
  await makeImage(good, 300, 300);
  const cut = join(models, "cut.png");
  await writeFile(cut, (await readFile(good)).subarray(0, 2000));
  await assertFatal(embedImage({ path: cut }, {}, CLIP_MODEL, models, io), /cannot decode image/);
  const broken = await tempDir(t);
  await writeFile(join(broken, DINO_MODEL.file), "not onnx");
  await assert.rejects(embedImage({ path: good }, {}, DINO_MODEL, broken, io), /cannot load ONNX model/);
});
