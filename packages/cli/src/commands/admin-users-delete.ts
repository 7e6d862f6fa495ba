import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import type { CliContext } from "../cli-context.ts";
import { toJson } from "../output.ts";

/** `gantry admin users delete <id>` */
export function registerAdminUsersDelete(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("delete")
    .description("delete a user and end its sessions")
    .argument("<id>", "user id");
  addAdminFlags(command).action(async (id: string, flags: AdminFlags) => {
    await adminFromFlags(flags, ctx).deleteUser(id);
    ctx.stdout(flags.json ? toJson({ deleted: id }) : `deleted ${id}\n`);
  });
}
