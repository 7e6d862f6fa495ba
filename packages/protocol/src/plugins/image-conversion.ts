import { z } from "zod";

export const ImageFormat = z.enum(["jpg", "png", "webp", "avif", "tiff"]);
export type ImageFormat = z.infer<typeof ImageFormat>;

/** `image_conversion`: one input image, re-encoded. */
export const ImageConversionPayload = z.object({
  output_format: ImageFormat,
  /** Encoder quality for jpg/webp/avif/tiff(jpeg); ignored for png. */
  quality: z.number().int().min(1).max(100).default(85),
});
export type ImageConversionPayload = z.infer<typeof ImageConversionPayload>;

export const ImageConversionOutput = z.object({
  width: z.number().int(),
  height: z.number().int(),
  format: ImageFormat,
  /** Bytes of the converted file. */
  size: z.number().int(),
  /** Name of the output file, e.g. `image_conversion.webp`. */
  output_path: z.string(),
});
export type ImageConversionOutput = z.infer<typeof ImageConversionOutput>;
