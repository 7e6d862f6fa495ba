import { join } from "node:path";
import { ImageEmbeddingPayload } from "@gantry/protocol";
import { defineExecutor } from "../../runner/executor.ts";
import { embedImage } from "../image-embedding/embed-image.ts";
import { missingModel } from "../image-embedding/onnx-session.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { modelsDirOf } from "../shared/models-dir.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { DINO_MODEL } from "./dino-model.ts";

/** `dino_embedding` on the executor-plugin contract: advertised only when the model file is present. */
export default defineExecutor({
  name: DINO_MODEL.capability,
  capabilities: [DINO_MODEL.capability],
  isolation: "process",
  detect: async (settings) => {
    const why = await missingModel(join(modelsDirOf(settings), DINO_MODEL.file));
    return why ? { available: false, reason: why } : detectMedia();
  },
  run: async (job, ctx) => {
    const params = parsePayload(ImageEmbeddingPayload, job.payload);
    return (await embedImage({ path: singleInput(ctx) }, params, DINO_MODEL, modelsDirOf(ctx.settings), toIO(ctx)))
      .output;
  },
});
