import { join } from "node:path";
import { ImageEmbeddingPayload } from "@gantry/protocol";
import { embedImage } from "../image-embedding/embed-image.ts";
import { missingModel } from "../image-embedding/onnx-session.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { definePlugin } from "../shared/plugin-contract.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { DINO_MODEL } from "./dino-model.ts";

/** `dino_embedding` on the executor-plugin contract: advertised only when the model file is present. */
export default definePlugin({
  capabilities: [DINO_MODEL.capability],
  detect: async (env) => {
    const why = await missingModel(join(env.modelsDir, DINO_MODEL.file));
    return why ? { available: false, reason: why } : detectMedia();
  },
  run: async (job, ctx, env) => {
    const params = parsePayload(ImageEmbeddingPayload, job.payload);
    return (await embedImage({ path: singleInput(ctx) }, params, DINO_MODEL, env.modelsDir, toIO(ctx))).output;
  },
});
