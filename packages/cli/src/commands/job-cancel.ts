import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { parseSeconds } from "../option-parsers.ts";
import { formatJob, toJson } from "../output.ts";
import { type WaitFlags, waitAndReport } from "../wait-and-report.ts";

/** `gantry job cancel <id>` */
export function registerJobCancel(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("cancel")
    .description("cancel a job; a running job stops once its agent acknowledges")
    .argument("<id>", "job id")
    .option("--wait", "wait until the job has ended (exit 11 when it ended cancelled)")
    .option("--wait-timeout <secs>", "with --wait: give up waiting after this long", parseSeconds)
    .option("--json", "print the job as JSON");
  addClientFlags(command).action(async (id: string, flags: ClientFlags & WaitFlags) => {
    const client = clientFromFlags(flags, ctx);
    const job = await client.cancel(id);
    if (flags.wait) {
      await waitAndReport(client, job.id, flags, ctx);
      return;
    }
    ctx.stdout(flags.json ? toJson(job) : formatJob(job));
  });
}
