import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HlsStreamingOutput, HlsStreamingPayload, HlsVariant } from "@gantry/protocol";
import { ExecutorError } from "../../runner/executor.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";
import { probeVideo } from "../shared/probe-video.ts";
import { runTool } from "../shared/run-tool.ts";
import { planLadder, type Rendition } from "./hls-ladder.ts";
import { parseMasterPlaylist, parseMediaPlaylist } from "./hls-playlist.ts";

const MASTER = "hls_streaming.m3u8";
const AUDIO_BITRATE = 96_000;

/** ffmpeg gets 10× the video's length (at least 2 minutes) before it is killed. */
export function encodeTimeoutMs(durationSecs: number): number {
  return Math.max(120, durationSecs * 10) * 1000;
}

/**
 * One ffmpeg run encodes every rendition (decode once, split, scale) into fixed-length H.264/AAC
 * MPEG-TS segments with aligned keyframes, plus variant playlists and a master playlist.
 */
export async function makeHls(
  input: { path: string },
  params: HlsStreamingPayload,
  io: PluginIO,
): Promise<PluginResult<HlsStreamingOutput>> {
  io.progress(0, "probing");
  const video = await probeVideo(input.path, io.signal);
  if (video.still) throw new ExecutorError("fatal", "input is a still image, not a video", "unsupported_format");
  const ladder = planLadder(params.variants, video);
  io.progress(5, "encoding");
  const onLine = (line: string) => {
    const us = /^out_time_us=(\d+)/.exec(line)?.[1];
    if (us && video.duration > 0) io.progress(5 + Math.min(90, (Number(us) / 1e6 / video.duration) * 90), "encoding");
  };
  const args = ffmpegArgs(input.path, io.outputDir, ladder, video.hasAudio, params.segment_secs);
  await runTool("ffmpeg", args, { signal: io.signal, timeoutMs: encodeTimeoutMs(video.duration), onLine });

  io.progress(96, "checking playlists");
  const master = parseMasterPlaylist(await readFile(join(io.outputDir, MASTER), "utf8"));
  const variants: HlsVariant[] = [];
  for (const rendition of ladder) {
    const playlist = `hls_streaming_${rendition.name}.m3u8`;
    const entry = master.find((e) => e.uri === playlist);
    const media = parseMediaPlaylist(await readFile(join(io.outputDir, playlist), "utf8"));
    if (!entry || media.segments.length === 0 || !media.ended) {
      throw new ExecutorError("fatal", `ffmpeg wrote an incomplete ${rendition.name} rendition`, "bad_video");
    }
    const { name, width, height } = rendition;
    variants.push({ name, width, height, bandwidth: entry.bandwidth, playlist, segments: media.segments });
  }
  io.progress(100, "done");
  const files = [MASTER, ...variants.flatMap((v) => [v.playlist, ...v.segments])];
  return { output: { output_path: MASTER, duration_secs: video.duration, variants }, files };
}

function ffmpegArgs(path: string, outDir: string, ladder: Rendition[], audio: boolean, segmentSecs: number) {
  const n = ladder.length;
  const splits = ladder.map((_, i) => `[s${i}]`).join("");
  const scales = ladder.map((r, i) => `[s${i}]scale=${r.width}:${r.height}[v${i}]`).join(";");
  const args = ["-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-i", path];
  args.push("-filter_complex", `[0:v]split=${n}${splits};${scales}`);
  ladder.forEach((_, i) => {
    args.push("-map", `[v${i}]`);
    if (audio) args.push("-map", "0:a:0");
  });
  args.push("-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p");
  // Keyframes on segment boundaries in every rendition, so players can switch between them.
  args.push("-sc_threshold", "0", "-force_key_frames", `expr:gte(t,n_forced*${segmentSecs})`);
  ladder.forEach((r, i) => {
    args.push(`-b:v:${i}`, `${r.videoBitrate}`, `-maxrate:v:${i}`, `${Math.round(r.videoBitrate * 1.07)}`);
    args.push(`-bufsize:v:${i}`, `${Math.round(r.videoBitrate * 1.5)}`);
  });
  if (audio) args.push("-c:a", "aac", "-b:a", `${AUDIO_BITRATE}`, "-ac", "2");
  args.push("-f", "hls", "-hls_time", `${segmentSecs}`, "-hls_playlist_type", "vod");
  args.push("-hls_flags", "independent_segments", "-master_pl_name", MASTER);
  args.push("-hls_segment_filename", join(outDir, "hls_streaming_%v_%03d.ts"));
  const streams = ladder.map((r, i) => `v:${i}${audio ? `,a:${i}` : ""},name:${r.name}`).join(" ");
  args.push("-var_stream_map", streams, join(outDir, "hls_streaming_%v.m3u8"));
  return args;
}
