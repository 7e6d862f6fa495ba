import type { Job, JobStatus } from "@gantry/protocol";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { parsePositiveInteger, parseStatusList } from "../option-parsers.ts";
import { formatJobList, toJson } from "../output.ts";

interface ListFlags extends ClientFlags {
  status?: JobStatus[];
  capability?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
  json?: boolean;
}

/** `gantry job list` */
export function registerJobList(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("list")
    .description("list jobs, newest first")
    .option("--status <list>", "only these statuses, comma-separated (e.g. queued,running)", parseStatusList)
    .option("--capability <name>", "only jobs for this base capability")
    .option("--limit <n>", "page size (default 50, max 500)", parsePositiveInteger)
    .option("--cursor <cursor>", "continue from the nextCursor of a previous page")
    .option("--all", "follow every page (ignores --cursor)")
    .option("--json", 'print {"jobs":[…],"nextCursor":…} as JSON (with --all: {"jobs":[…]})');
  addClientFlags(command).action(async (flags: ListFlags) => {
    const client = clientFromFlags(flags, ctx);
    const query = { status: flags.status, capability: flags.capability, limit: flags.limit };
    if (flags.all) {
      const jobs: Job[] = [];
      for await (const job of client.listAll(query)) jobs.push(job);
      ctx.stdout(flags.json ? toJson({ jobs }) : formatJobList(jobs));
      return;
    }
    const page = await client.list({ ...query, cursor: flags.cursor });
    if (flags.json) {
      ctx.stdout(toJson(page));
      return;
    }
    ctx.stdout(formatJobList(page.jobs));
    if (page.nextCursor) ctx.stderr(`more: --cursor ${page.nextCursor}\n`);
  });
}
