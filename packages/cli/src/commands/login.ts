import { GantryClient, SessionManager } from "@gantry/client";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { toJson } from "../output.ts";
import {
  checkProfileName,
  DEFAULT_PROFILE,
  type Profile,
  profileSession,
  profilesPath,
  readProfile,
  removeProfile,
  saveProfile,
} from "../profiles.ts";
import { UsageError } from "../usage-error.ts";

interface LoginFlags {
  key?: string;
  username?: string;
  profile?: string;
  json?: boolean;
}

/**
 * `gantry login URL`: checks the credential against the server, then saves URL and credential as a
 * profile (mode 0600) so later commands need no flags. A user login saves the refresh token, which
 * later commands trade for access tokens (and save back, since refresh tokens rotate).
 */
export function registerLogin(parent: Command, ctx: CliContext): void {
  parent
    .command("login")
    .description("save a server URL and credential as a profile, so later commands need no --url/--key")
    .argument("<url>", "server URL, e.g. http://127.0.0.1:7070")
    .option("--key <key>", "an API key to save (default: $GANTRY_API_KEY)")
    .option("--username <name>", "log in as this user (password from $GANTRY_PASSWORD, else the first line of stdin)")
    .option("--profile <name>", `the profile to save (default: ${DEFAULT_PROFILE})`)
    .option("--json", "print the saved profile (without secrets) as JSON")
    .action(async (rawUrl: string, flags: LoginFlags) => {
      const url = rawUrl.replace(/\/+$/, "");
      if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`URL must be an http(s) URL, got "${rawUrl}"`);
      const name = checkProfileName(flags.profile ?? DEFAULT_PROFILE);
      const key = flags.key ?? ctx.env.GANTRY_API_KEY;
      if (key && flags.username) throw new UsageError("pass either --key or --username, not both");
      let profile: Profile;
      let who: string;
      if (flags.username) {
        const password = ctx.env.GANTRY_PASSWORD ?? (await readPasswordFromStdin());
        const session = new SessionManager({ url });
        await session.login(flags.username, password);
        profile = { url, username: flags.username, session: session.session };
        who = `user ${flags.username}`;
      } else if (key) {
        const me = await new GantryClient({ url, apiKey: key, retries: 0 }).me();
        profile = { url, apiKey: key };
        who = me.username ? `user ${me.username}` : `API key ${me.id}`;
      } else {
        // A --no-auth server: only the URL is worth saving; check that something answers there.
        await new GantryClient({ url, retries: 0 }).health();
        profile = { url };
        who = "no credential";
      }
      const path = saveProfile(name, profile);
      const kind = profile.session ? "user" : profile.apiKey ? "api_key" : "none";
      if (flags.json) ctx.stdout(toJson({ profile: name, url, kind, username: profile.username ?? null, path }));
      else ctx.stdout(`logged in to ${url} as ${who}; profile "${name}" saved in ${path}\n`);
    });
}

/** `gantry logout`: ends a saved user session on the server (best effort) and removes the profile. */
export function registerLogout(parent: Command, ctx: CliContext): void {
  parent
    .command("logout")
    .description("end the profile's session on the server and remove the profile")
    .option("--profile <name>", `the profile to remove (default: $GANTRY_PROFILE or ${DEFAULT_PROFILE})`)
    .option("--json", "print what was done as JSON")
    .action(async (flags: { profile?: string; json?: boolean }) => {
      const name = checkProfileName(flags.profile ?? ctx.env.GANTRY_PROFILE ?? DEFAULT_PROFILE);
      const profile = readProfile(name);
      let revoked = false;
      if (profile?.session) {
        try {
          await profileSession(name, profile).revoke();
          revoked = true;
        } catch (err) {
          ctx.stderr(
            `warning: could not end the session on the server (${(err as Error).message}); removing it here\n`,
          );
        }
      }
      const removed = removeProfile(name);
      if (flags.json) ctx.stdout(toJson({ profile: name, removed, revoked, path: profilesPath() }));
      else ctx.stdout(removed ? `logged out: profile "${name}" removed\n` : `no profile "${name}"\n`);
    });
}

async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError("set GANTRY_PASSWORD, or pipe the password on stdin");
  let text = "";
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes("\n") || text.length > 4096) break;
  }
  const password = text.split(/\r?\n/)[0] ?? "";
  if (!password) throw new UsageError("no password on stdin");
  return password;
}
