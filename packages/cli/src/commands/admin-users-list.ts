import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import { formatUsers } from "../admin-output.ts";
import type { CliContext } from "../cli-context.ts";
import { parsePositiveInteger } from "../option-parsers.ts";
import { toJson } from "../output.ts";

/** `gantry admin users list` */
export function registerAdminUsersList(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("list")
    .description("list users (admins)")
    .option("--limit <n>", "users per page (1-200)", parsePositiveInteger)
    .option("--after <id>", "start after this user id (the previous page's next)");
  addAdminFlags(command).action(async (flags: AdminFlags & { limit?: number; after?: string }) => {
    const page = await adminFromFlags(flags, ctx).listUsers({ limit: flags.limit, after: flags.after });
    ctx.stdout(flags.json ? toJson(page) : formatUsers(page.users) + (page.next ? `next: --after ${page.next}\n` : ""));
  });
}
