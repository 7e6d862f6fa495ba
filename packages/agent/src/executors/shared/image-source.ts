import type { Sharp } from "sharp";
import { ExecutorError } from "../../runner/executor.ts";
import { importOrFail } from "./lazy-import.ts";

/**
 * Images over this many pixels are refused from their header, before any decoding: a 30,000×30,000
 * PNG is 100 KB on disk and 2.7 GB decoded. 100 MP still admits a 12,000×8,000 camera frame.
 */
export const MAX_INPUT_PIXELS = 100_000_000;

/** No single libvips step may take longer (a huge AVIF encode on a busy core is the slow case). */
export const SHARP_TIMEOUT_SECS = 120;

type SharpFn = typeof import("sharp").default;
let sharpModule: Promise<SharpFn> | undefined;

/** sharp, loaded on first use; its operation cache is off so an idle agent holds no pixels or fds. */
export function loadSharp(): Promise<SharpFn> {
  sharpModule ??= import("sharp").then((m) => {
    m.default.cache(false);
    return m.default;
  });
  const pending = sharpModule;
  pending.catch(() => {
    sharpModule = undefined;
  });
  return importOrFail(() => pending, "sharp");
}

export interface OpenedImage {
  /** Auto-oriented (EXIF orientation applied), first page/frame only. */
  image: Sharp;
  /** Size after orientation. */
  width: number;
  height: number;
  /** sharp's name for the input format, e.g. `jpeg`. */
  format: string;
}

const LIMITS = { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" } as const;

/** Opens an image from its header, refusing non-images and decompression bombs with a fatal error. */
export async function openImage(path: string): Promise<OpenedImage> {
  const sharp = await loadSharp();
  let meta: Awaited<ReturnType<Sharp["metadata"]>>;
  try {
    // Header only, never pixels: unlimited here so the refusal below can name the size.
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw imageError(err);
  }
  const { width, height, format } = meta;
  if (!width || !height || !format) throw new ExecutorError("fatal", "input is not a readable image (no size)");
  if (width * height > MAX_INPUT_PIXELS) throw tooLarge(width, height);
  const swap = (meta.orientation ?? 1) >= 5;
  return {
    image: sharp(path, LIMITS).rotate().timeout({ seconds: SHARP_TIMEOUT_SECS }),
    width: swap ? height : width,
    height: swap ? width : height,
    format,
  };
}

/**
 * An auto-oriented pipeline without the separate header pass (a sixth of a small conversion's
 * time): the same limits refuse the same inputs once decoding starts, through decode().
 */
export async function streamImage(path: string): Promise<Sharp> {
  const sharp = await loadSharp();
  return sharp(path, LIMITS).rotate().timeout({ seconds: SHARP_TIMEOUT_SECS });
}

function tooLarge(width: number, height: number): ExecutorError {
  const pixels = width * height;
  return new ExecutorError(
    "fatal",
    `image is ${width}×${height} (${pixels} pixels), over the ${MAX_INPUT_PIXELS}-pixel limit`,
    "image_too_large",
  );
}

/** Maps a sharp/libvips failure to a fatal ExecutorError whose message says what was wrong. */
export function imageError(err: unknown): ExecutorError {
  if (err instanceof ExecutorError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (/unsupported image format/i.test(message)) {
    return new ExecutorError("fatal", "input is not an image in a supported format", "unsupported_format");
  }
  if (/pixel limit/i.test(message)) {
    return new ExecutorError("fatal", `image is over the ${MAX_INPUT_PIXELS}-pixel limit`, "image_too_large");
  }
  return new ExecutorError("fatal", `cannot decode image: ${message.split("\n")[0]}`, "bad_image");
}

/**
 * Runs a sharp pipeline step, mapping its failure (truncated data, corrupt pixels, too many pixels)
 * to a fatal error. Given the input's path, a pixel-limit refusal names the size from the header.
 */
export async function decode<T>(step: () => Promise<T>, path?: string): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const mapped = imageError(err);
    if (mapped.code !== "image_too_large" || path === undefined) throw mapped;
    const sharp = await loadSharp();
    const meta = await sharp(path, { limitInputPixels: false })
      .metadata()
      .catch(() => null);
    throw meta?.width && meta.height ? tooLarge(meta.width, meta.height) : mapped;
  }
}
