import { HashPayload } from "@gantry/protocol";
import { parsePayload, singleInput, toIO } from "../shared/adapter-helpers.ts";
import { defineMediaExecutor } from "../shared/plugin-contract.ts";
import { detectMedia } from "../shared/sharp-detect.ts";
import { hashFile } from "./hash-file.ts";

/** `hash` on the executor-plugin contract. */
export default defineMediaExecutor({
  name: "hash",
  capabilities: ["hash"],
  isolation: "thread",
  detect: () => detectMedia(),
  run: async (job, ctx) => {
    const params = parsePayload(HashPayload, job.payload);
    return (await hashFile({ path: singleInput(ctx) }, params, toIO(ctx))).output;
  },
});
