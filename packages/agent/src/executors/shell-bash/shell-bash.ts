import { defineExecutor } from "../../runner/executor.ts";
import { findOnPath } from "../../shell/find-on-path.ts";

/**
 * `shell.bash` `{command | argv, cwd?, env?, saveLog?}`: runs a command in the job's working
 * directory, in a child process group, streaming its output as log lines. Off unless the agent runs
 * with `--allow-shell`. The output is `{exitCode, signal, durationMs}`; a non-zero exit fails the job.
 */
export default defineExecutor({
  name: "shell.bash",
  isolation: "process",
  detect: (settings) => {
    if (!settings.allowShell)
      return { available: false, reason: "off: start the agent with --allow-shell to run commands" };
    if (!findOnPath("bash", settings.inheritEnv.PATH)) return { available: false, reason: "bash is not on PATH" };
    return { available: true, attributes: [`os:${process.platform}`] };
  },
  // Imported in the child that runs the job, not in the agent's threads where detect() runs.
  run: async (job, ctx) => (await import("./run-shell.ts")).runShell(job, ctx),
});
