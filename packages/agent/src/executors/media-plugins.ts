import type { PluginCapability } from "@gantry/protocol";

const at = (path: string) => new URL(path, import.meta.url).href;

/**
 * Module URLs of the nine CL media/ML plugins (seed 001), by capability. Each default-exports an
 * Executor; BUILTIN_EXECUTORS lists them, so every agent detects them at start.
 */
export const MEDIA_PLUGINS: Readonly<Record<PluginCapability, string>> = {
  image_conversion: at("./image-conversion/image-conversion-plugin.ts"),
  media_thumbnail: at("./media-thumbnail/media-thumbnail-plugin.ts"),
  hash: at("./hash/hash-plugin.ts"),
  exif: at("./exif/exif-plugin.ts"),
  hls_streaming: at("./hls-streaming/hls-streaming-plugin.ts"),
  face_detection: at("./face-detection/face-detection-plugin.ts"),
  face_embedding: at("./face-embedding/face-embedding-plugin.ts"),
  clip_embedding: at("./clip-embedding/clip-embedding-plugin.ts"),
  dino_embedding: at("./dino-embedding/dino-embedding-plugin.ts"),
};
