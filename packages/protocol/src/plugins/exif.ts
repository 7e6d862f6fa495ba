import { z } from "zod";

/** `exif`: no parameters. */
export const ExifPayload = z.object({}).loose();
export type ExifPayload = z.infer<typeof ExifPayload>;

export const ExifGps = z.object({
  /** Decimal degrees, south negative. */
  latitude: z.number(),
  /** Decimal degrees, west negative. */
  longitude: z.number(),
  altitude: z.number().optional(),
});
export type ExifGps = z.infer<typeof ExifGps>;

export const ExifExposure = z.object({
  /** Seconds, e.g. 0.004 for 1/250. */
  exposure_time: z.number().optional(),
  f_number: z.number().optional(),
  iso: z.number().optional(),
  /** Millimetres. */
  focal_length: z.number().optional(),
});
export type ExifExposure = z.infer<typeof ExifExposure>;

export const ExifOutput = z.object({
  make: z.string().nullable(),
  model: z.string().nullable(),
  /** DateTimeOriginal (else CreateDate, else ModifyDate) as written in the file, `YYYY-MM-DDTHH:mm:ss`, no zone. */
  datetime: z.string().nullable(),
  gps: ExifGps.nullable(),
  /** EXIF orientation 1–8. */
  orientation: z.number().int().nullable(),
  exposure: ExifExposure,
  /** Every tag exifr reads (`all: true`), by name; binary values as base64. */
  tags: z.record(z.string(), z.unknown()),
});
export type ExifOutput = z.infer<typeof ExifOutput>;
