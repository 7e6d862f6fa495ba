import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SessionManager, type SessionTokens, type TokenSource } from "@gantry/client";
import envPaths from "env-paths";
import { z } from "zod";
import { UsageError } from "./usage-error.ts";

/** One saved server: its URL and either an API key or a user session (refreshed and saved back as it rotates). */
export const Profile = z.object({
  url: z.string(),
  apiKey: z.string().optional(),
  username: z.string().optional(),
  session: z.object({ accessToken: z.string(), refreshToken: z.string(), expiresAt: z.number() }).optional(),
});
export type Profile = z.infer<typeof Profile>;

const ProfilesFile = z.object({ profiles: z.record(z.string(), Profile) });
type ProfilesFile = z.infer<typeof ProfilesFile>;

export const DEFAULT_PROFILE = "default";
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** `<config dir>/profiles.json`: ~/.config/gantry on Linux ($XDG_CONFIG_HOME), the platform's equivalent elsewhere. */
export function profilesPath(): string {
  return join(envPaths("gantry", { suffix: "" }).config, "profiles.json");
}

export function checkProfileName(name: string): string {
  if (!NAME.test(name)) throw new UsageError(`--profile must be 1-64 letters, digits, '.', '_' or '-', got "${name}"`);
  return name;
}

function readAll(path = profilesPath()): ProfilesFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { profiles: {} };
    throw err;
  }
  const parsed = ProfilesFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new UsageError(`${path} is not a gantry profiles file; remove it and log in again`);
  return parsed.data;
}

/** Writes the whole file readable by its owner only (it holds credentials), replacing it in one rename. */
function writeAll(all: ProfilesFile, path = profilesPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function readProfile(name: string): Profile | undefined {
  return readAll().profiles[name];
}

export function saveProfile(name: string, profile: Profile): string {
  const all = readAll();
  all.profiles[name] = profile;
  writeAll(all);
  return profilesPath();
}

/** Removes a profile; false when there was none. */
export function removeProfile(name: string): boolean {
  const all = readAll();
  if (!(name in all.profiles)) return false;
  delete all.profiles[name];
  writeAll(all);
  return true;
}

/** A session manager over a saved profile's tokens, saving each refreshed pair back to the profile. */
export function profileSession(name: string, profile: Profile): SessionManager {
  return new SessionManager({
    url: profile.url,
    session: profile.session,
    onSession: (session: SessionTokens | undefined) => {
      const current = readProfile(name);
      if (current && session) saveProfile(name, { ...current, session });
    },
  });
}

/** The credential a profile holds: its API key, or its session's access token (refreshed when under a minute is left). */
export function profileCredential(name: string, profile: Profile): TokenSource | undefined {
  if (profile.apiKey) return profile.apiKey;
  if (!profile.session) return undefined;
  const session = profileSession(name, profile);
  return () => session.getValidToken();
}
