import { ShellBashPayload } from "@gantry/protocol";
import { defineExecutor, ExecutorError } from "../../runner/executor.ts";
import { findOnPath } from "../../shell/find-on-path.ts";
import { failUnlessZero, runCommand } from "../../shell/run-command.ts";

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
  run: async (job, ctx) => {
    // Checked here too: the setting could change between detection and a job (a rescan, a stale push).
    if (!ctx.settings.allowShell)
      throw new ExecutorError("fatal", "shell.bash is off on this agent (no --allow-shell)");
    const parsed = ShellBashPayload.safeParse(job.payload);
    if (!parsed.success) throw new ExecutorError("fatal", `bad shell.bash payload: ${parsed.error.issues[0]?.message}`);
    const p = parsed.data;
    const [file, ...args] = p.command !== undefined ? ["bash", "-c", p.command] : p.argv!;
    const { stdoutTail: _, ...result } = await runCommand(
      { file: file!, args, cwd: p.cwd, env: p.env, saveLog: p.saveLog },
      ctx,
      {
        GANTRY_JOB_ID: job.id,
      },
    );
    failUnlessZero(result, "the command");
    return result;
  },
});
