import type { z } from "zod";
import { ExifOutput, ExifPayload } from "./exif.ts";
import { FaceDetectionOutput, FaceDetectionPayload } from "./face-detection.ts";
import { FaceEmbeddingOutput, FaceEmbeddingPayload } from "./face-embedding.ts";
import { HashOutput, HashPayload } from "./hash.ts";
import { HlsStreamingOutput, HlsStreamingPayload } from "./hls-streaming.ts";
import { ImageConversionOutput, ImageConversionPayload } from "./image-conversion.ts";
import { ImageEmbeddingOutput, ImageEmbeddingPayload } from "./image-embedding.ts";
import { MediaThumbnailOutput, MediaThumbnailPayload } from "./media-thumbnail.ts";

/**
 * The CL client's nine media/ML plugins (seed 001): capability → payload and output schemas. Server,
 * agent and SDK validate against this one table. Every plugin takes exactly one input file.
 */
export const PLUGINS = {
  image_conversion: { payload: ImageConversionPayload, output: ImageConversionOutput },
  media_thumbnail: { payload: MediaThumbnailPayload, output: MediaThumbnailOutput },
  hash: { payload: HashPayload, output: HashOutput },
  exif: { payload: ExifPayload, output: ExifOutput },
  hls_streaming: { payload: HlsStreamingPayload, output: HlsStreamingOutput },
  face_detection: { payload: FaceDetectionPayload, output: FaceDetectionOutput },
  face_embedding: { payload: FaceEmbeddingPayload, output: FaceEmbeddingOutput },
  clip_embedding: { payload: ImageEmbeddingPayload, output: ImageEmbeddingOutput },
  dino_embedding: { payload: ImageEmbeddingPayload, output: ImageEmbeddingOutput },
} as const satisfies Record<string, { payload: z.ZodType; output: z.ZodType }>;

export type PluginCapability = keyof typeof PLUGINS;
export type PluginPayload<C extends PluginCapability> = z.input<(typeof PLUGINS)[C]["payload"]>;
export type PluginOutput<C extends PluginCapability> = z.infer<(typeof PLUGINS)[C]["output"]>;

export function isPluginCapability(name: string): name is PluginCapability {
  return Object.hasOwn(PLUGINS, name);
}
