import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import type { CliContext } from "../cli-context.ts";
import { toJson } from "../output.ts";

/** `gantry admin agents revoke <id>` */
export function registerAdminAgentsRevoke(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("revoke")
    .description("revoke an agent: it is disconnected and can no longer authenticate")
    .argument("<id>", "agent id");
  addAdminFlags(command).action(async (id: string, flags: AdminFlags) => {
    await adminFromFlags(flags, ctx).revokeAgent(id);
    ctx.stdout(flags.json ? toJson({ revoked: id }) : `revoked ${id}\n`);
  });
}
