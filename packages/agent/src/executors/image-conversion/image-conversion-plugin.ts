import { ImageConversionPayload } from "@gantry/protocol";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { definePlugin } from "../shared/plugin-contract.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { convertImage } from "./convert-image.ts";

/** `image_conversion` on the executor-plugin contract. */
export default definePlugin({
  capabilities: ["image_conversion"],
  detect: () => detectMedia(),
  run: async (job, ctx) => {
    const params = parsePayload(ImageConversionPayload, job.payload);
    return (await convertImage({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
