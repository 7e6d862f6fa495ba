import { type EventsTransport, GantryClient, type TokenSource } from "@gantry/client";
import type { Command } from "commander";
import type { CliContext } from "./cli-context.ts";
import { checkProfileName, DEFAULT_PROFILE, profileCredential, readProfile } from "./profiles.ts";
import { UsageError } from "./usage-error.ts";

export interface ClientFlags {
  url?: string;
  key?: string;
  profile?: string;
}

/** Adds --url, --key and --profile, the server and credential of every client command. */
export function addClientFlags(command: Command): Command {
  return command
    .option("--url <url>", "server URL (default: $GANTRY_URL, else the profile's)")
    .option("--key <key>", "client API key or access token (default: $GANTRY_API_KEY, else the profile's)")
    .option("--profile <name>", `a profile saved by \`gantry login\` (default: $GANTRY_PROFILE or ${DEFAULT_PROFILE})`);
}

/**
 * The server URL and credential: flags first, then the environment, then the saved profile. The
 * profile's credential is only sent to the profile's own URL, never to a URL given by flag or env.
 */
export function resolveTarget(
  flags: ClientFlags,
  ctx: CliContext,
  opts: { requireKey: boolean; hint: string },
): { url: string; credential: TokenSource | undefined } {
  const name = checkProfileName(flags.profile ?? ctx.env.GANTRY_PROFILE ?? DEFAULT_PROFILE);
  const explicit = flags.profile !== undefined || ctx.env.GANTRY_PROFILE !== undefined;
  const profile = readProfile(name);
  if (explicit && !profile) throw new UsageError(`no profile "${name}": run gantry login URL --profile ${name}`);
  const url = (flags.url ?? ctx.env.GANTRY_URL ?? profile?.url)?.replace(/\/+$/, "");
  if (!url) {
    throw new UsageError(
      "no server URL: pass --url, set GANTRY_URL, or run gantry login URL (e.g. http://127.0.0.1:7070)",
    );
  }
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http(s) URL, got "${url}"`);
  const credential =
    flags.key ??
    ctx.env.GANTRY_API_KEY ??
    (profile && profile.url === url ? profileCredential(name, profile) : undefined);
  if (!credential && opts.requireKey) {
    throw new UsageError(`no credential: pass --key, set GANTRY_API_KEY, or run gantry login (${opts.hint})`);
  }
  return { url, credential };
}

/** Builds the SDK client from flags, falling back to the environment, then the saved profile. */
export function clientFromFlags(
  flags: ClientFlags,
  ctx: CliContext,
  opts: { requireKey?: boolean; events?: EventsTransport | undefined } = {},
): GantryClient {
  const { url, credential } = resolveTarget(flags, ctx, {
    requireKey: opts.requireKey ?? true,
    hint: "the clientKey in <data>/bootstrap.json",
  });
  // One command, one submit: a socket would only add a round trip (and hold the process open).
  return new GantryClient({ url, auth: credential, events: opts.events, pipelineSubmits: false });
}
