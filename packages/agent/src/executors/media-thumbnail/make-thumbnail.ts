import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MediaThumbnailOutput, MediaThumbnailPayload } from "@gantry/protocol";
import type { Sharp } from "sharp";
import { ExecutorError } from "../../runner/executor.ts";
import { decode, loadSharp, streamImage } from "../shared/image-source.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";
import { probeVideo } from "../shared/probe-video.ts";
import { runTool } from "../shared/run-tool.ts";

const NAME = "media_thumbnail.jpg";
const FRAME_TIMEOUT_MS = 60_000;

/** A JPEG thumbnail of an image, or of one video frame (ffmpeg grabs it, sharp scales it). */
export async function makeThumbnail(
  input: { path: string },
  params: MediaThumbnailPayload,
  io: PluginIO,
): Promise<PluginResult<MediaThumbnailOutput>> {
  io.progress(0, "reading");
  try {
    return await scale(await streamImage(input.path), params, io, { source: "image" }, input.path);
  } catch (err) {
    // Not an image format sharp knows: it may be a video. Every other refusal stands.
    if (!(err instanceof ExecutorError && err.code === "unsupported_format")) throw err;
  }
  io.progress(10, "probing video");
  const video = await probeVideo(input.path, io.signal).catch((err: unknown) => {
    if (err instanceof ExecutorError && err.code === "unsupported_format") {
      throw new ExecutorError("fatal", "input is neither a supported image nor a video", "unsupported_format");
    }
    throw err;
  });
  const at = Math.min(params.at_secs ?? video.duration * 0.1, Math.max(0, video.duration - 0.1));
  io.progress(20, "extracting frame");
  const scratch = await mkdtemp(join(tmpdir(), "gantry-frame-"));
  try {
    const frame = join(scratch, "frame.png");
    const args = ["-hide_banner", "-nostdin", "-loglevel", "error", "-ss", at.toFixed(3), "-i", input.path];
    args.push("-frames:v", "1", "-an", "-f", "image2", "-c:v", "png", frame);
    await runTool("ffmpeg", args, { signal: io.signal, timeoutMs: FRAME_TIMEOUT_MS });
    const sharp = await loadSharp();
    const decoded = await sharp(frame)
      .metadata()
      .catch(() => null);
    if (!decoded) throw new ExecutorError("fatal", `no video frame could be decoded at ${at.toFixed(2)}s`, "bad_video");
    io.progress(60, "scaling");
    return await scale(sharp(frame), params, io, { source: "video", at_secs: Number(at.toFixed(3)) });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function scale(
  image: Sharp,
  params: MediaThumbnailPayload,
  io: PluginIO,
  extra: Pick<MediaThumbnailOutput, "source" | "at_secs">,
  path?: string,
): Promise<PluginResult<MediaThumbnailOutput>> {
  io.signal.throwIfAborted();
  const pipeline = image
    .resize(params.width, params.height, { fit: params.fit })
    .flatten({ background: "#ffffff" })
    .jpeg({ quality: 85 });
  const info = await decode(() => pipeline.toFile(join(io.outputDir, NAME)), path);
  io.progress(100, "done");
  return {
    output: { width: info.width, height: info.height, format: "jpg", size: info.size, ...extra, output_path: NAME },
    files: [NAME],
  };
}
