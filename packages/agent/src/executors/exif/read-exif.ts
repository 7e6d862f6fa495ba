import type { ExifExposure, ExifGps, ExifOutput, ExifPayload } from "@gantry/protocol";
import { ExecutorError } from "../../runner/executor.ts";
import { openImage } from "../shared/image-source.ts";
import { importOrFail } from "../shared/lazy-import.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";

/**
 * exifr's "everything" (its `parse(file, true)`), but with raw values: dates stay as written (EXIF
 * has no zone, so reviving them as local-time Dates would invent one) and enums stay numbers.
 */
const READ_ALL = {
  tiff: true,
  ifd1: true,
  exif: true,
  gps: true,
  interop: true,
  makerNote: true,
  userComment: true,
  xmp: true,
  icc: true,
  iptc: true,
  jfif: true,
  ihdr: true,
  mergeOutput: true,
  reviveValues: false,
  translateValues: false,
} as const;

type Tags = Record<string, unknown>;

/** The headline fields plus every tag, from one image's metadata. An image without EXIF gives nulls. */
export async function readExif(
  input: { path: string },
  _params: ExifPayload,
  io: PluginIO,
): Promise<PluginResult<ExifOutput>> {
  io.progress(0, "reading");
  await openImage(input.path); // same refusals as every image plugin: non-images, bombs
  const { default: exifr } = await importOrFail(() => import("exifr"), "exifr");
  io.progress(30, "parsing");
  let raw: Tags | undefined;
  try {
    raw = (await exifr.parse(input.path, READ_ALL)) as Tags | undefined;
  } catch (err) {
    throw new ExecutorError("fatal", `cannot read metadata: ${(err as Error).message}`, "bad_metadata");
  }
  const { errors, ...tags } = raw ?? {};
  if (Array.isArray(errors) && errors.length > 0 && Object.keys(tags).length === 0) {
    throw new ExecutorError("fatal", `metadata is truncated or corrupt: ${String(errors[0])}`, "bad_metadata");
  }
  io.progress(100, "done");
  return { output: summarise(tags), files: [] };
}

function summarise(tags: Tags): ExifOutput {
  const text = (key: string) => (typeof tags[key] === "string" ? (tags[key] as string).trim() || null : null);
  const num = (key: string) => (typeof tags[key] === "number" ? (tags[key] as number) : undefined);
  const written = text("DateTimeOriginal") ?? text("CreateDate") ?? text("ModifyDate") ?? text("DateTime");
  const exposure: ExifExposure = {};
  if (num("ExposureTime") !== undefined) exposure.exposure_time = num("ExposureTime");
  if (num("FNumber") !== undefined) exposure.f_number = num("FNumber");
  const iso = num("ISO") ?? num("ISOSpeedRatings");
  if (iso !== undefined) exposure.iso = iso;
  if (num("FocalLength") !== undefined) exposure.focal_length = num("FocalLength");
  return {
    make: text("Make"),
    model: text("Model"),
    datetime: written ? written.replace(/^(\d{4}):(\d{2}):(\d{2})[ T]/, "$1-$2-$3T") : null,
    gps: gps(tags),
    orientation: num("Orientation") ?? null,
    exposure,
    tags: jsonSafe(tags) as Tags,
  };
}

/** exifr adds signed decimal `latitude`/`longitude` from the DMS triples and their N/S/E/W refs. */
function gps(tags: Tags): ExifGps | null {
  const { latitude, longitude, GPSAltitude, GPSAltitudeRef } = tags;
  if (typeof latitude !== "number" || typeof longitude !== "number") return null;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return null;
  const out: ExifGps = { latitude, longitude };
  if (typeof GPSAltitude === "number") {
    const below = GPSAltitudeRef instanceof Uint8Array ? GPSAltitudeRef[0] === 1 : GPSAltitudeRef === 1;
    out.altitude = below ? -GPSAltitude : GPSAltitude;
  }
  return out;
}

/** Binary values become base64; non-finite numbers and functions are dropped. */
function jsonSafe(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return typeof value === "function" ? undefined : value;
}
