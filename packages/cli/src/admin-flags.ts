import { AdminApi } from "@gantry/client";
import type { Command } from "commander";
import type { CliContext } from "./cli-context.ts";
import { addClientFlags, type ClientFlags, resolveTarget } from "./client-flags.ts";

export type AdminFlags = ClientFlags & { json?: boolean };

/** --url, --key (an admin's access token, or a key with keys:manage) and --json. */
export function addAdminFlags(command: Command): Command {
  return addClientFlags(command).option("--json", "print the answer as JSON");
}

export function adminFromFlags(flags: ClientFlags, ctx: CliContext): AdminApi {
  const { url, credential } = resolveTarget(flags, ctx, { requireKey: true, hint: "an admin's access token" });
  return new AdminApi({ url, credential: credential! });
}
