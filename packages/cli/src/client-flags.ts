import { GantryClient } from "@gantry/client";
import type { Command } from "commander";
import type { CliContext } from "./cli-context.ts";
import { UsageError } from "./usage-error.ts";

export interface ClientFlags {
  url?: string;
  key?: string;
}

/** Adds --url and --key, the server and credential of every client command. */
export function addClientFlags(command: Command): Command {
  return command
    .option("--url <url>", "server URL (default: $GANTRY_URL)")
    .option("--key <key>", "client API key or access token (default: $GANTRY_API_KEY)");
}

/** Builds the SDK client from flags, falling back to the environment. */
export function clientFromFlags(flags: ClientFlags, ctx: CliContext, opts = { requireKey: true }): GantryClient {
  const url = flags.url ?? ctx.env.GANTRY_URL;
  if (!url) throw new UsageError("no server URL: pass --url or set GANTRY_URL (e.g. http://127.0.0.1:7070)");
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
  const apiKey = flags.key ?? ctx.env.GANTRY_API_KEY;
  if (!apiKey && opts.requireKey) {
    throw new UsageError("no credential: pass --key or set GANTRY_API_KEY (the clientKey in <data>/bootstrap.json)");
  }
  // One command, one submit: a socket would only add a round trip (and hold the process open).
  return new GantryClient({ url, apiKey, pipelineSubmits: false });
}
