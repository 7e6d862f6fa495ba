import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import { formatKeys } from "../admin-output.ts";
import type { CliContext } from "../cli-context.ts";
import { parsePositiveInteger } from "../option-parsers.ts";
import { toJson } from "../output.ts";

/** `gantry admin keys list` */
export function registerAdminKeysList(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("list")
    .description("list API keys (admins see all; keys:manage, your own)")
    .option("--limit <n>", "keys per page (1-200)", parsePositiveInteger)
    .option("--after <id>", "start after this key id (the previous page's next)");
  addAdminFlags(command).action(async (flags: AdminFlags & { limit?: number; after?: string }) => {
    const page = await adminFromFlags(flags, ctx).listKeys({ limit: flags.limit, after: flags.after });
    ctx.stdout(flags.json ? toJson(page) : formatKeys(page.keys) + (page.next ? `next: --after ${page.next}\n` : ""));
  });
}
