import { ExifPayload } from "@gantry/protocol";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { missingLibrary } from "../shared/lazy-import.ts";
import { defineMediaExecutor } from "../shared/plugin-contract.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { readExif } from "./read-exif.ts";

/** `exif` on the executor-plugin contract. */
export default defineMediaExecutor({
  name: "exif",
  capabilities: ["exif"],
  isolation: "thread",
  detect: async () => {
    const why = await missingLibrary(() => import("exifr"), "exifr");
    return why ? { available: false, reason: why } : detectMedia();
  },
  run: async (job, ctx) => {
    const params = parsePayload(ExifPayload, job.payload);
    return (await readExif({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
