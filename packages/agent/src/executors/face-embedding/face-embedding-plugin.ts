import { FaceEmbeddingPayload } from "@gantry/protocol";
import { defineExecutor } from "../../runner/executor.ts";
import { missingFaceApi } from "../face-detection/face-api-loader.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { embedFaces } from "./embed-faces.ts";

/** `face_embedding` on the executor-plugin contract. */
export default defineExecutor({
  name: "face_embedding",
  capabilities: ["face_embedding"],
  isolation: "process",
  detect: async () => {
    const why = await missingFaceApi();
    return why ? { available: false, reason: why } : detectMedia();
  },
  run: async (job, ctx) => {
    const params = parsePayload(FaceEmbeddingPayload, job.payload);
    return (await embedFaces({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
