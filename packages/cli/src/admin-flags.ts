import { AdminApi } from "@gantry/client";
import type { Command } from "commander";
import type { CliContext } from "./cli-context.ts";
import { addClientFlags, type ClientFlags } from "./client-flags.ts";
import { UsageError } from "./usage-error.ts";

export type AdminFlags = ClientFlags & { json?: boolean };

/** --url, --key (an admin's access token, or a key with keys:manage) and --json. */
export function addAdminFlags(command: Command): Command {
  return addClientFlags(command).option("--json", "print the answer as JSON");
}

export function adminFromFlags(flags: ClientFlags, ctx: CliContext): AdminApi {
  const url = flags.url ?? ctx.env.GANTRY_URL;
  if (!url) throw new UsageError("no server URL: pass --url or set GANTRY_URL (e.g. http://127.0.0.1:7070)");
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
  const credential = flags.key ?? ctx.env.GANTRY_API_KEY;
  if (!credential) throw new UsageError("no credential: pass --key or set GANTRY_API_KEY (an admin's access token)");
  return new AdminApi({ url, credential });
}
