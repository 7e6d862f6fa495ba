import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import { formatUsers } from "../admin-output.ts";
import type { CliContext } from "../cli-context.ts";
import { parseCommaList } from "../option-parsers.ts";
import { toJson } from "../output.ts";
import { UsageError } from "../usage-error.ts";

interface Flags extends AdminFlags {
  permissions?: string[];
  activate?: boolean;
  deactivate?: boolean;
  resetPassword?: boolean;
}

/** `gantry admin users update <id>` */
export function registerAdminUsersUpdate(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("update")
    .description("change a user's permissions, active flag or password (ends its sessions)")
    .argument("<id>", "user id")
    .option("--permissions <list>", "replace the permissions (comma-separated)", parseCommaList)
    .option("--activate", "let the user log in again")
    .option("--deactivate", "refuse the user's logins and end its sessions")
    .option("--reset-password", "set the password from $GANTRY_NEW_PASSWORD (the user must change it)");
  addAdminFlags(command).action(async (id: string, flags: Flags) => {
    if (flags.activate && flags.deactivate) throw new UsageError("--activate and --deactivate exclude each other");
    const password = flags.resetPassword ? ctx.env.GANTRY_NEW_PASSWORD : undefined;
    if (flags.resetPassword && !password) throw new UsageError("--reset-password needs GANTRY_NEW_PASSWORD");
    const patch = {
      ...(flags.permissions ? { permissions: flags.permissions as never } : {}),
      ...(flags.activate ? { active: true } : flags.deactivate ? { active: false } : {}),
      ...(password ? { password } : {}),
    };
    if (Object.keys(patch).length === 0)
      throw new UsageError("nothing to change: pass --permissions, --activate, --deactivate or --reset-password");
    const user = await adminFromFlags(flags, ctx).updateUser(id, patch);
    ctx.stdout(flags.json ? toJson(user) : formatUsers([user]));
  });
}
