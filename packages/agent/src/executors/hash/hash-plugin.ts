import { HashPayload } from "@gantry/protocol";
import { defineExecutor } from "../../runner/executor.ts";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { hashFile } from "./hash-file.ts";

/** `hash` on the executor-plugin contract. */
export default defineExecutor({
  name: "hash",
  capabilities: ["hash"],
  isolation: "thread",
  detect: () => detectMedia(),
  run: async (job, ctx) => {
    const params = parsePayload(HashPayload, job.payload);
    return (await hashFile({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
