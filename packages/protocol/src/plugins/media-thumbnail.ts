import { z } from "zod";

export const ThumbnailFit = z.enum(["cover", "contain", "fill", "inside", "outside"]);
export type ThumbnailFit = z.infer<typeof ThumbnailFit>;

/** `media_thumbnail`: an image, or a frame of a video, scaled to fit `width`×`height`. */
export const MediaThumbnailPayload = z.object({
  width: z.number().int().min(1).max(4096).default(256),
  height: z.number().int().min(1).max(4096).default(256),
  /** sharp's fit: `cover` crops to fill the box, `inside` keeps the whole picture. */
  fit: ThumbnailFit.default("cover"),
  /** For video: the frame time in seconds (clamped to the video's length). @defaultValue 10% of the duration */
  at_secs: z.number().min(0).optional(),
});
export type MediaThumbnailPayload = z.infer<typeof MediaThumbnailPayload>;

export const MediaThumbnailOutput = z.object({
  width: z.number().int(),
  height: z.number().int(),
  format: z.literal("jpg"),
  size: z.number().int(),
  /** `image` or `video`: what the input was found to be. */
  source: z.enum(["image", "video"]),
  /** For video: the frame time actually used. */
  at_secs: z.number().optional(),
  output_path: z.string(),
});
export type MediaThumbnailOutput = z.infer<typeof MediaThumbnailOutput>;
