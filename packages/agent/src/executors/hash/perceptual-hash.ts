import type { Sharp } from "sharp";
import { decode } from "../shared/image-source.ts";

/**
 * Perceptual hashes (`path`, when given, lets a pixel-limit refusal name the image's size) as imagehash (Python) defines them, 64 bits each, so values compare across
 * tools. Both work on luma after flattening alpha onto white.
 */

async function luma(image: Sharp, width: number, height: number, path?: string): Promise<Uint8Array> {
  const pixels = image
    .clone()
    .flatten({ background: "#ffffff" })
    .greyscale()
    .resize(width, height, { fit: "fill" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { data, info } = await decode(() => pixels, path);
  if (info.channels === 1) return data;
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = data[i * info.channels]!;
  return grey;
}

function toHex(bits: boolean[]): string {
  let hex = "";
  for (let i = 0; i < bits.length; i += 4) {
    hex += ((bits[i]! ? 8 : 0) | (bits[i + 1]! ? 4 : 0) | (bits[i + 2]! ? 2 : 0) | (bits[i + 3]! ? 1 : 0)).toString(16);
  }
  return hex;
}

/** dHash: 9×8 luma; each bit says whether a pixel is brighter than its right neighbour. */
export async function dHash(image: Sharp, path?: string): Promise<string> {
  const px = await luma(image, 9, 8, path);
  const bits: boolean[] = [];
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bits.push(px[y * 9 + x]! > px[y * 9 + x + 1]!);
  return toHex(bits);
}

/** pHash: 32×32 luma → 2-D DCT-II; the 8×8 lowest frequencies, each against their median. */
export async function pHash(image: Sharp, path?: string): Promise<string> {
  const N = 32;
  const px = await luma(image, N, N, path);
  const cos = Float64Array.from({ length: N * N }, (_, i) =>
    Math.cos(((2 * (i % N) + 1) * Math.floor(i / N) * Math.PI) / (2 * N)),
  );
  // Rows then columns, keeping only the 8 lowest frequencies of each.
  const rows = new Float64Array(N * 8);
  for (let y = 0; y < N; y++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let x = 0; x < N; x++) sum += px[y * N + x]! * cos[u * N + x]!;
      rows[y * 8 + u] = sum;
    }
  }
  const low: number[] = [];
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let y = 0; y < N; y++) sum += rows[y * 8 + u]! * cos[v * N + y]!;
      low.push(sum);
    }
  }
  const sorted = [...low].sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[32]!) / 2;
  return toHex(low.map((c) => c > median));
}

/** Bits that differ between two 64-bit hex hashes (0 = same picture, ~32 = unrelated). */
export function hammingDistance(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let count = 0;
  for (; x > 0n; x >>= 1n) count += Number(x & 1n);
  return count;
}
