import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { hashFile } from "../packages/agent/src/executors/hash/hash-file.ts";
import { convertImage } from "../packages/agent/src/executors/image-conversion/convert-image.ts";
import { makeThumbnail } from "../packages/agent/src/executors/media-thumbnail/make-thumbnail.ts";
import { quietIO } from "../packages/agent/src/executors/shared/plugin-io.ts";
import { makeImage } from "../packages/agent/src/executors/shared/test-media.ts";

/**
 * `npx node bench/media-bench.ts [images]`: images/s of the sharp plugins' core functions against
 * the bare sharp call they wrap, one process, one image at a time. It measures what the plugin layer
 * adds (header check, orientation, output bookkeeping); the figure through server and agent comes
 * once job files land. Reported, never asserted.
 */
const N = Number(process.argv[2] ?? 200);
const dir = await mkdtemp(join(tmpdir(), "gantry-media-bench-"));
try {
  const src = join(dir, "in.png");
  await makeImage(src, 640, 480);
  const out = join(dir, "out");
  await mkdir(out);
  const io = quietIO(out);
  // Direct and plugin alternate in 10 rounds, so drift in the machine's load hits both alike.
  const compare = async (direct: () => Promise<unknown>, plugin: () => Promise<unknown>) => {
    const ms = [0, 0];
    for (let i = 0; i < 10; i++) await Promise.all([direct(), plugin()]); // warm-up
    for (let round = 0; round < 10; round++) {
      for (const [k, fn] of [direct, plugin].entries()) {
        const t0 = performance.now();
        for (let i = 0; i < N / 10; i++) await fn();
        ms[k]! += performance.now() - t0;
      }
    }
    return ms.map((m) => N / (m / 1000)) as [number, number];
  };
  const rows: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
    [
      "image_conversion (png → jpg q80)",
      () => sharp(src).rotate().jpeg({ quality: 80 }).toFile(join(out, "direct.jpg")),
      () => convertImage({ path: src }, { output_format: "jpg", quality: 80 }, io),
    ],
    [
      "media_thumbnail (256×256 cover)",
      () =>
        sharp(src).rotate().resize(256, 256, { fit: "cover" }).jpeg({ quality: 85 }).toFile(join(out, "direct-t.jpg")),
      () => makeThumbnail({ path: src }, { width: 256, height: 256, fit: "cover" }, io),
    ],
    [
      "hash (two luma thumbnails + md5/sha256)",
      async () => {
        const luma = (w: number, h: number) =>
          sharp(src)
            .rotate()
            .flatten({ background: "#fff" })
            .greyscale()
            .resize(w, h, { fit: "fill" })
            .raw()
            .toBuffer();
        await Promise.all([luma(32, 32), luma(9, 8)]);
        const bytes = await readFile(src);
        return [createHash("md5").update(bytes).digest(), createHash("sha256").update(bytes).digest()];
      },
      () => hashFile({ path: src }, {}, io),
    ],
  ];
  console.log(`| plugin | direct sharp (img/s) | plugin core (img/s) | ratio |\n|---|---|---|---|`);
  for (const [name, direct, plugin] of rows) {
    const [d, p] = await compare(direct, plugin);
    console.log(`| ${name} | ${d.toFixed(0)} | ${p.toFixed(0)} | ${((p / d) * 100).toFixed(0)}% |`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
