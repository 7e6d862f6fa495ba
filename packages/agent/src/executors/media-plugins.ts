import type { PluginCapability } from "@gantry/protocol";

const at = (path: string) => new URL(path, import.meta.url).href;

/** Each plugin's import, by capability: a literal path, so the agent's bundle holds it. */
const IMPORTS: Readonly<Record<PluginCapability, readonly [string, () => Promise<unknown>]>> = {
  image_conversion: [
    at("./image-conversion/image-conversion-plugin.ts"),
    () => import("./image-conversion/image-conversion-plugin.ts"),
  ],
  media_thumbnail: [
    at("./media-thumbnail/media-thumbnail-plugin.ts"),
    () => import("./media-thumbnail/media-thumbnail-plugin.ts"),
  ],
  hash: [at("./hash/hash-plugin.ts"), () => import("./hash/hash-plugin.ts")],
  exif: [at("./exif/exif-plugin.ts"), () => import("./exif/exif-plugin.ts")],
  hls_streaming: [
    at("./hls-streaming/hls-streaming-plugin.ts"),
    () => import("./hls-streaming/hls-streaming-plugin.ts"),
  ],
  face_detection: [
    at("./face-detection/face-detection-plugin.ts"),
    () => import("./face-detection/face-detection-plugin.ts"),
  ],
  face_embedding: [
    at("./face-embedding/face-embedding-plugin.ts"),
    () => import("./face-embedding/face-embedding-plugin.ts"),
  ],
  clip_embedding: [
    at("./clip-embedding/clip-embedding-plugin.ts"),
    () => import("./clip-embedding/clip-embedding-plugin.ts"),
  ],
  dino_embedding: [
    at("./dino-embedding/dino-embedding-plugin.ts"),
    () => import("./dino-embedding/dino-embedding-plugin.ts"),
  ],
};

/**
 * Module URLs of the nine CL media/ML plugins (seed 001), by capability. Each default-exports an
 * Executor; BUILTIN_EXECUTORS lists them, so every agent detects them at start.
 */
export const MEDIA_PLUGINS: Readonly<Record<PluginCapability, string>> = Object.fromEntries(
  Object.entries(IMPORTS).map(([cap, [url]]) => [cap, url]),
) as Record<PluginCapability, string>;

/** The plugins' imports by module URL (see builtin-executors.ts). */
export const MEDIA_PLUGIN_LOADERS: ReadonlyArray<readonly [string, () => Promise<unknown>]> = Object.values(IMPORTS);
