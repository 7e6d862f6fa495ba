import { defineExecutor } from "../../runner/executor.ts";

/**
 * `benchmark` `{name, args?}`: runs a benchmark from the agent's config (`benchmarks: {name: spec}`),
 * streaming its logs, and returns the metrics it reported: the JSON written to `$GANTRY_METRICS_FILE`,
 * else its last stdout line if that is a JSON object. `{command | argv}` runs an arbitrary command,
 * only with `--allow-shell`.
 */
export default defineExecutor({
  name: "benchmark",
  isolation: "process",
  detect: (settings) => {
    if (Object.keys(settings.benchmarks).length > 0 || settings.allowShell) return { available: true };
    return { available: false, reason: "no benchmarks in the agent's config file, and --allow-shell is off" };
  },
  // Imported in the child that runs the job, not in the agent's threads where detect() runs.
  run: async (job, ctx) => (await import("./run-benchmark.ts")).runBenchmark(job, ctx),
});
