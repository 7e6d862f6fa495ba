import assert from "node:assert/strict";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { quietIO } from "../shared/plugin-io.ts";
import { assertFatal, makeBombPng, makeImage, makeNotMedia, tempDir, truncateCopy } from "../shared/test-media.ts";
import { convertImage } from "./convert-image.ts";

const SHARP_FORMAT = { jpg: "jpeg", png: "png", webp: "webp", avif: "heif", tiff: "tiff" } as const;

test("converts to each format, keeping dimensions, and reports what it wrote", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "in.png");
  await makeImage(src, 320, 200);
  for (const format of ["jpg", "png", "webp", "avif", "tiff"] as const) {
    const out = join(dir, format);
    await import("node:fs/promises").then((fs) => fs.mkdir(out));
    const stages: string[] = [];
    const io = { ...quietIO(out), progress: (_: number, stage: string) => stages.push(stage) };
    const { output, files } = await convertImage({ path: src }, { output_format: format, quality: 80 }, io);
    assert.deepEqual(files, [`image_conversion.${format}`]);
    assert.deepEqual(await readdir(out), files);
    const meta = await sharp(join(out, files[0]!)).metadata();
    assert.equal(meta.format, SHARP_FORMAT[format]);
    assert.equal(meta.width, 320);
    assert.equal(meta.height, 200);
    assert.deepEqual(
      { ...output, size: 0 },
      {
        width: 320,
        height: 200,
        format,
        size: 0,
        output_path: files[0],
      },
    );
    assert.equal(output.size, (await stat(join(out, files[0]!))).size);
    assert.deepEqual([stages[0], stages.at(-1)], ["reading", "done"]);
  }
});

test("quality changes the encoded size", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "in.png");
  await makeImage(src, 640, 480);
  const low = await convertImage({ path: src }, { output_format: "jpg", quality: 10 }, quietIO(dir));
  const lowSize = low.output.size;
  const high = await convertImage({ path: src }, { output_format: "jpg", quality: 95 }, quietIO(dir));
  assert.ok(lowSize < high.output.size, `q10 ${lowSize} B should be smaller than q95 ${high.output.size} B`);
});

test("applies EXIF orientation, so a rotated photo comes out upright", async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, "rotated.jpg");
  await sharp({ create: { width: 300, height: 100, channels: 3, background: "#888" } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toFile(src);
  const { output } = await convertImage({ path: src }, { output_format: "png", quality: 85 }, quietIO(dir));
  assert.deepEqual([output.width, output.height], [100, 300]);
});

test("bad input fails fatally: not an image, truncated, decompression bomb, unsupported format", async (t) => {
  const dir = await tempDir(t);
  const io = quietIO(dir);
  const params = { output_format: "png", quality: 85 } as const;
  const text = join(dir, "notes.jpg");
  await makeNotMedia(text);
  await assertFatal(convertImage({ path: text }, params, io), /not an image in a supported format/);

  const good = join(dir, "good.jpg");
  await sharp({
    create: {
      width: 800,
      height: 600,
      channels: 3,
      background: "#000",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  })
    .jpeg()
    .toFile(good);
  const cut = join(dir, "cut.jpg");
  await truncateCopy(good, cut, 0.4);
  await assertFatal(convertImage({ path: cut }, params, io), /cannot decode image/);

  const bomb = join(dir, "bomb.png");
  await makeBombPng(bomb);
  await assertFatal(convertImage({ path: bomb }, params, io), /30000×30000 .*over the 100000000-pixel limit/);

  // A Windows BMP: a real image format that libvips does not read.
  const bmp = join(dir, "image.bmp");
  const header = Buffer.alloc(58);
  header.write("BM", 0, "latin1");
  await import("node:fs/promises").then((fs) => fs.writeFile(bmp, header));
  await assertFatal(convertImage({ path: bmp }, params, io), /not an image in a supported format/);

  const empty = join(dir, "empty.png");
  await import("node:fs/promises").then((fs) => fs.writeFile(empty, ""));
  await assertFatal(convertImage({ path: empty }, params, io), /not an image|cannot decode/);
});
