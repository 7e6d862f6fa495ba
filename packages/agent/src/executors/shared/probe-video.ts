import { ExecutorError } from "../../runner/executor.ts";
import { runTool } from "./run-tool.ts";

/** Frames above this are refused before decoding (8K UHD is 33 MP). */
export const MAX_VIDEO_PIXELS = 40_000_000;
const PROBE_TIMEOUT_MS = 30_000;

export interface VideoInfo {
  width: number;
  height: number;
  /** Seconds; 0 when the container does not say. */
  duration: number;
  codec: string;
  hasAudio: boolean;
  /** A single picture (ffmpeg reads PNG/JPEG/BMP as one-frame "video"). */
  still: boolean;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  disposition?: { attached_pic?: number };
}

/** ffprobe's view of a video file; fatal when it is not one (or is too large to decode). */
export async function probeVideo(path: string, signal: AbortSignal): Promise<VideoInfo> {
  const args = ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", path];
  let json: { streams?: ProbeStream[]; format?: { duration?: string; format_name?: string } };
  try {
    json = JSON.parse(await runTool("ffprobe", args, { signal, timeoutMs: PROBE_TIMEOUT_MS, maxStdout: 1 << 20 }));
  } catch (err) {
    if (err instanceof ExecutorError && err.code === "tool_failed") {
      throw new ExecutorError("fatal", `input is not a readable video: ${err.message}`, "unsupported_format");
    }
    throw err;
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
  if (!video?.width || !video.height) {
    throw new ExecutorError("fatal", "input has no video stream", "unsupported_format");
  }
  if (video.width * video.height > MAX_VIDEO_PIXELS) {
    throw new ExecutorError(
      "fatal",
      `video frames are ${video.width}×${video.height}, over the ${MAX_VIDEO_PIXELS}-pixel limit`,
      "video_too_large",
    );
  }
  const duration = Number(json.format?.duration ?? video.duration ?? 0);
  return {
    width: video.width,
    height: video.height,
    duration: Number.isFinite(duration) ? duration : 0,
    codec: video.codec_name ?? "unknown",
    hasAudio: streams.some((s) => s.codec_type === "audio"),
    still: /(^|,)(image2|\w+_pipe)(,|$)/.test(json.format?.format_name ?? ""),
  };
}

const toolChecks = new Map<string, Promise<string | null>>();

/** For detect(): null when the tool runs, else why not. Asked once per thread (several plugins ask). */
export function missingTool(command: string): Promise<string | null> {
  let check = toolChecks.get(command);
  if (!check) {
    const run = runTool(command, ["-version"], { signal: new AbortController().signal, timeoutMs: 10_000 });
    check = run.then(
      () => null,
      (err: Error) => err.message,
    );
    toolChecks.set(command, check);
  }
  return check;
}
