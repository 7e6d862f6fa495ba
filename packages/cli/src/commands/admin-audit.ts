import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import { formatAudit } from "../admin-output.ts";
import type { CliContext } from "../cli-context.ts";
import { parsePositiveInteger } from "../option-parsers.ts";
import { toJson } from "../output.ts";

/** `gantry admin audit` */
export function registerAdminAudit(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("audit")
    .description("list audited actions (users, keys, agent revocations, commands, failed logins), newest first")
    .option("--limit <n>", "events per page (1-200)", parsePositiveInteger)
    .option("--after <id>", "continue after this event id (the previous page's next)");
  addAdminFlags(command).action(async (flags: AdminFlags & { limit?: number; after?: string }) => {
    const page = await adminFromFlags(flags, ctx).audit({ limit: flags.limit, after: flags.after });
    ctx.stdout(
      flags.json ? toJson(page) : formatAudit(page.events) + (page.next ? `next: --after ${page.next}\n` : ""),
    );
  });
}
