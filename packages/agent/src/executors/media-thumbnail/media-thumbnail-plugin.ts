import { MediaThumbnailPayload } from "@gantry/protocol";
import { defineExecutor } from "../../runner/executor.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { makeThumbnail } from "./make-thumbnail.ts";

/**
 * `media_thumbnail` on the executor-plugin contract. Needs sharp; without ffmpeg it still serves
 * images, so only sharp gates it and a video input then fails with "ffmpeg is not on PATH".
 */
export default defineExecutor({
  name: "media_thumbnail",
  capabilities: ["media_thumbnail"],
  isolation: "thread",
  detect: async () => {
    const images = await detectMedia();
    if (!images.available) return images;
    const video = await detectMedia(["ffmpeg", "ffprobe"]);
    return video.available ? { available: true, attributes: ["video"] } : { available: true };
  },
  run: async (job, ctx) => {
    const params = parsePayload(MediaThumbnailPayload, job.payload);
    return (await makeThumbnail({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
