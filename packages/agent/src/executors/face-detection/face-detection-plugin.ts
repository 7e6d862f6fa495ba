import { FaceDetectionPayload } from "@gantry/protocol";
import { defineExecutor } from "../../runner/executor.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { detectFaces } from "./detect-faces.ts";
import { missingFaceApi } from "./face-api-loader.ts";

/** `face_detection` on the executor-plugin contract. */
export default defineExecutor({
  name: "face_detection",
  capabilities: ["face_detection"],
  isolation: "process",
  detect: async () => {
    const why = await missingFaceApi();
    return why ? { available: false, reason: why } : detectMedia();
  },
  run: async (job, ctx) => {
    const params = parsePayload(FaceDetectionPayload, job.payload);
    return (await detectFaces({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
