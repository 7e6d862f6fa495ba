import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { formatJob, toJson } from "../output.ts";

/** `gantry job get <id>` */
export function registerJobGet(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("get")
    .description("show one job")
    .argument("<id>", "job id")
    .option("--json", "print the job as JSON");
  addClientFlags(command).action(async (id: string, flags: ClientFlags & { json?: boolean }) => {
    const job = await clientFromFlags(flags, ctx).get(id);
    ctx.stdout(flags.json ? toJson(job) : formatJob(job));
  });
}
