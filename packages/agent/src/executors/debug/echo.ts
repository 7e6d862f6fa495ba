import { defineExecutor } from "../../runner/executor.ts";

/** `debug.echo`: the output is the payload. The benchmark's no-op job. */
export default defineExecutor({
  name: "debug.echo",
  light: true,
  detect: () => true,
  run: async (job) => job.payload ?? null,
});
