import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AgentEnv } from "./agent-env.ts";

/** The seed's config file, in the working directory. */
export const LOCAL_CONFIG_FILE = ".offload-client.json";

/**
 * The per-user platform config file written by `gantry agent init`:
 * Linux `$XDG_CONFIG_HOME/gantry/agent.json` (default `~/.config`), macOS
 * `~/Library/Application Support/Gantry/agent.json`, Windows `%APPDATA%\Gantry\agent.json`.
 */
export function platformConfigPath(
  env: Pick<AgentEnv, "XDG_CONFIG_HOME" | "APPDATA" | "HOME">,
  platform: NodeJS.Platform = process.platform,
): string {
  const home = env.HOME ?? os.homedir();
  if (platform === "win32") {
    return path.win32.join(env.APPDATA ?? path.win32.join(home, "AppData", "Roaming"), "Gantry", "agent.json");
  }
  if (platform === "darwin") return path.posix.join(home, "Library", "Application Support", "Gantry", "agent.json");
  return path.posix.join(env.XDG_CONFIG_HOME ?? path.posix.join(home, ".config"), "gantry", "agent.json");
}

/**
 * Which config file to use: the explicit one; else `./.offload-client.json` if it exists; else the
 * platform file if it exists; else `./.offload-client.json` (created on first registration).
 */
export function resolveConfigPath(explicit: string | undefined, env: AgentEnv, cwd: string = process.cwd()): string {
  if (explicit) return path.resolve(cwd, explicit);
  const local = path.join(cwd, LOCAL_CONFIG_FILE);
  if (fs.existsSync(local)) return local;
  const platform = platformConfigPath(env);
  if (fs.existsSync(platform)) return platform;
  return local;
}

/** The data directory beside a config file: `./.offload-client.json` → `./.offload-client.data/`,
 * `~/.config/gantry/agent.json` → `~/.config/gantry/agent.data/`. */
export function defaultDataDir(configPath: string): string {
  const base = path.basename(configPath).replace(/\.json$/, "");
  return path.join(path.dirname(configPath), `${base}.data`);
}
