import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { runTool } from "./run-tool.ts";

/*
 * Media the plugin tests make for themselves: real images from sharp, real video from ffmpeg's
 * testsrc/sine, and the bad inputs every plugin must refuse. Used only by *.test.ts files.
 */

export async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-media-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A picture with structure (gradient, shapes, text-free) so hashes and resizes mean something. */
export async function makeImage(path: string, width: number, height: number, variant = 0): Promise<void> {
  const { default: sharp } = await import("sharp");
  const shapes =
    variant === 0
      ? `<circle cx="${width * 0.3}" cy="${height * 0.4}" r="${height * 0.25}" fill="#e33"/>
         <rect x="${width * 0.55}" y="${height * 0.5}" width="${width * 0.35}" height="${height * 0.4}" fill="#23c"/>`
      : `<rect x="${width * 0.05}" y="${height * 0.05}" width="${width * 0.4}" height="${height * 0.3}" fill="#fc0"/>
         <circle cx="${width * 0.7}" cy="${height * 0.7}" r="${height * 0.2}" fill="#0a5"/>
         <rect x="${width * 0.1}" y="${height * 0.6}" width="${width * 0.2}" height="${height * 0.35}" fill="#000"/>`;
  const gradient = variant === 0 ? ["#fff", "#333"] : ["#124", "#eee"];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="${gradient[0]}"/><stop offset="1" stop-color="${gradient[1]}"/>
    </linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  await sharp(Buffer.from(svg)).toFile(path);
}

/** A solid colour image (embedding tests compute the expected normalised values from it). */
export async function makeSolid(path: string, width: number, height: number, rgb: [number, number, number]) {
  const { default: sharp } = await import("sharp");
  const [r, g, b] = rgb;
  await sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toFile(path);
}

/**
 * A real 30,000×30,000 PNG decompression bomb: 1-bit grey, all zero, ~110 KB on disk, 900 MP
 * (2.7 GB as RGB) once decoded.
 */
export async function makeBombPng(path: string, side = 30_000): Promise<void> {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = deflateSync(Buffer.alloc(side * (1 + Math.ceil(side / 8))), { level: 9 });
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  await writeFile(
    path,
    Buffer.concat([signature, chunk("IHDR", ihdr), chunk("IDAT", rows), chunk("IEND", Buffer.alloc(0))]),
  );
}

/** The first part of a real file: a truncated upload. */
export async function truncateCopy(from: string, to: string, fraction = 0.5): Promise<void> {
  const bytes = await readFile(from);
  await writeFile(to, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

/** A text file posing as media. */
export async function makeNotMedia(path: string): Promise<void> {
  await writeFile(path, "this is not an image or a video\n".repeat(20));
}

/** A real H.264/AAC MP4 from ffmpeg's testsrc and sine sources. */
export async function makeVideo(path: string, secs: number, width: number, height: number): Promise<void> {
  const args = ["-hide_banner", "-loglevel", "error", "-y"];
  args.push("-f", "lavfi", "-i", `testsrc=duration=${secs}:size=${width}x${height}:rate=25`);
  args.push("-f", "lavfi", "-i", `sine=frequency=440:duration=${secs}`);
  args.push("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path);
  await runTool("ffmpeg", args, { signal: new AbortController().signal, timeoutMs: 60_000 });
}

/** Asserts a plugin call failed with a fatal ExecutorError whose message matches. */
export async function assertFatal(run: Promise<unknown>, message: RegExp): Promise<void> {
  const { ExecutorError } = await import("../../runner/executor.ts");
  await run.then(
    () => {
      throw new Error(`expected a fatal error matching ${message}`);
    },
    (err: unknown) => {
      if (!(err instanceof ExecutorError)) throw err;
      if (err.category !== "fatal") throw new Error(`category ${err.category}, expected fatal: ${err.message}`);
      if (!message.test(err.message)) throw new Error(`message "${err.message}" does not match ${message}`);
    },
  );
}
