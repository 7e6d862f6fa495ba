import type { Detection } from "../../runner/executor.ts";
import { loadSharp } from "./image-source.ts";
import { missingLibrary } from "./lazy-import.ts";
import { missingTool } from "./probe-video.ts";

/** Available when sharp loads (and, for video plugins, when ffmpeg and ffprobe run). */
export async function detectMedia(tools: string[] = []): Promise<Detection> {
  const reasons = [await missingLibrary(loadSharp, "sharp")];
  for (const tool of tools) reasons.push(await missingTool(tool));
  const why = reasons.filter((r): r is string => r !== null);
  return why.length === 0 ? { available: true } : { available: false, reason: why.join("; ") };
}
