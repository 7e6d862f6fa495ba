import { ImageConversionPayload } from "@gantry/protocol";
import { defineExecutor } from "../../runner/executor.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { convertImage } from "./convert-image.ts";

/** `image_conversion` on the executor-plugin contract. */
export default defineExecutor({
  name: "image_conversion",
  capabilities: ["image_conversion"],
  isolation: "thread",
  detect: () => detectMedia(),
  run: async (job, ctx) => {
    const params = parsePayload(ImageConversionPayload, job.payload);
    return (await convertImage({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
