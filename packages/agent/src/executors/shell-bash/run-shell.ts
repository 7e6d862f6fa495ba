import { ShellBashPayload } from "@gantry/protocol";
import { type ExecutorContext, ExecutorError, type ExecutorJob } from "../../runner/executor.ts";
import { failUnlessZero, runCommand } from "../../shell/run-command.ts";

/** One `shell.bash` job, in its child process: check the payload, run the command, judge the exit. */
export async function runShell(job: ExecutorJob, ctx: ExecutorContext): Promise<unknown> {
  // Checked here too: the setting could change between detection and a job (a rescan, a stale push).
  if (!ctx.settings.allowShell) throw new ExecutorError("fatal", "shell.bash is off on this agent (no --allow-shell)");
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
}
