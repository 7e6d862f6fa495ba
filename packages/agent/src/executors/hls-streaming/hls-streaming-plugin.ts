import { HlsStreamingPayload } from "@gantry/protocol";
import { defineExecutor } from "../../runner/executor.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { missingTool } from "../shared/probe-video.ts";
import { makeHls } from "./make-hls.ts";

/** `hls_streaming` on the executor-plugin contract: needs ffmpeg and ffprobe on PATH. */
export default defineExecutor({
  name: "hls_streaming",
  capabilities: ["hls_streaming"],
  isolation: "thread",
  detect: async () => {
    const why = (await missingTool("ffmpeg")) ?? (await missingTool("ffprobe"));
    return why ? { available: false, reason: why } : { available: true };
  },
  run: async (job, ctx) => {
    const params = parsePayload(HlsStreamingPayload, job.payload);
    return (await makeHls({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
