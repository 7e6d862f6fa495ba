import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import { formatUsers } from "../admin-output.ts";
import type { CliContext } from "../cli-context.ts";
import { parseCommaList } from "../option-parsers.ts";
import { toJson } from "../output.ts";
import { UsageError } from "../usage-error.ts";

/** `gantry admin users create <username>` (the password comes from $GANTRY_NEW_PASSWORD, never argv) */
export function registerAdminUsersCreate(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("create")
    .description("create a user; the password is read from $GANTRY_NEW_PASSWORD (argv is visible in ps)")
    .argument("<username>", "the login name")
    .option(
      "--permissions <list>",
      "comma-separated: admin,jobs:read,jobs:write,agents:read,agents:manage,keys:manage,files:write",
      parseCommaList,
    )
    .option("--inactive", "create the user deactivated");
  addAdminFlags(command).action(
    async (username: string, flags: AdminFlags & { permissions?: string[]; inactive?: boolean }) => {
      const password = ctx.env.GANTRY_NEW_PASSWORD;
      if (!password) throw new UsageError("set GANTRY_NEW_PASSWORD to the new user's password (12 characters or more)");
      const user = await adminFromFlags(flags, ctx).createUser({
        username,
        password,
        permissions: (flags.permissions ?? []) as never,
        active: !flags.inactive,
      });
      ctx.stdout(flags.json ? toJson(user) : formatUsers([user]));
    },
  );
}
