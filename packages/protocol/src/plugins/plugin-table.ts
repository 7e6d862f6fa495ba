import type { z } from "zod";
import { capabilityName } from "../capability.ts";
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

/**
 * Why a payload does not fit its plugin's schema (`"output_format: Invalid option…"`), or null when
 * it fits or the capability is not one of the nine. The server refuses such a submission with 400.
 */
export function pluginPayloadProblem(capability: string, payload: unknown): string | null {
  const name = capabilityName(capability);
  if (!isPluginCapability(name)) return null;
  const parsed = PLUGINS[name].payload.safeParse(payload ?? {});
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `${issue?.path.length ? issue.path.join(".") : "payload"}: ${issue?.message ?? "invalid"}`;
}
