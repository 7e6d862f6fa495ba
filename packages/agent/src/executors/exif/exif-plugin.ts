import { ExifPayload } from "@gantry/protocol";
import { defineExecutor } from "../../runner/executor.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { missingLibrary } from "../shared/lazy-import.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { readExif } from "./read-exif.ts";

/** `exif` on the executor-plugin contract. */
export default defineExecutor({
  name: "exif",
  capabilities: ["exif"],
  isolation: "thread",
  detect: async () => {
    const why = missingLibrary("exifr", "exifr");
    return why ? { available: false, reason: why } : detectMedia();
  },
  run: async (job, ctx) => {
    const params = parsePayload(ExifPayload, job.payload);
    return (await readExif({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
