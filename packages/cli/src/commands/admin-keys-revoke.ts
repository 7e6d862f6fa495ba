import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import { formatKeys } from "../admin-output.ts";
import type { CliContext } from "../cli-context.ts";
import { toJson } from "../output.ts";

/** `gantry admin keys revoke <id>` */
export function registerAdminKeysRevoke(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("revoke")
    .description("revoke an API key (its live connections close too)")
    .argument("<id>", "key id");
  addAdminFlags(command).action(async (id: string, flags: AdminFlags) => {
    const key = await adminFromFlags(flags, ctx).revokeKey(id);
    ctx.stdout(flags.json ? toJson(key) : formatKeys([key]));
  });
}
