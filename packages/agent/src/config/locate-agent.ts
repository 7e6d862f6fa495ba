import path from "node:path";
import { sameCluster } from "../connection/server-list.ts";
import { agentCertPaths } from "../lifecycle/agent-certificate.ts";
import type { AgentEnv } from "./agent-env.ts";
import { type AgentConfigFile, readConfigFile, writeConfigFile } from "./config-file.ts";
import { defaultDataDir, platformConfigPath, resolveConfigPath } from "./config-location.ts";

/** Where an agent's config and data live, resolved the same way `startAgent` does. */
export function locateAgent(
  flags: { configPath?: string; dataDir?: string },
  env: AgentEnv,
): { configPath: string; dataDir: string; config: AgentConfigFile } {
  const configPath = resolveConfigPath(flags.configPath ?? env.GANTRY_AGENT_CONFIG, env);
  const config = readConfigFile(configPath);
  const dataDir = path.resolve(flags.dataDir ?? env.GANTRY_AGENT_DATA ?? config.dataDir ?? defaultDataDir(configPath));
  return { configPath, dataDir, config };
}

const IDENTITY_FIELDS = ["agentId", "key", "jwtToken", "tokenExpiresIn", "commandKey", "registered"] as const;

/**
 * `gantry agent init`: writes server, enrolment key and settings to the config file (the platform
 * location unless one is given). A different server drops the saved identity; the same one keeps it.
 */
export function initAgentConfig(
  input: {
    server: string;
    key: string;
    name?: string;
    tier?: number;
    capacity?: number;
    capabilities?: string[];
    transport?: "ws" | "poll";
    configPath?: string;
    /** TLS/mTLS files (made absolute: a service runs from another directory) and `insecure`. */
    tls?: { certFile?: string; keyFile?: string; caFile?: string; insecure?: boolean };
  },
  env: AgentEnv,
): { configPath: string; config: AgentConfigFile } {
  const configPath = path.resolve(input.configPath ?? platformConfigPath(env));
  const existing = readConfigFile(configPath);
  const config: AgentConfigFile = { ...existing, server: input.server, apiKey: input.key };
  if (existing.server && !sameCluster(existing.server, input.server)) {
    for (const f of IDENTITY_FIELDS) delete config[f];
    // A certificate the old server issued (certs/agent.pem) opens nothing on the new one: enrol afresh.
    if (config.tls?.certFile === agentCertPaths(configPath).certFile) {
      config.tls = { ...config.tls };
      delete config.tls.certFile;
      delete config.tls.keyFile;
    }
  }
  if (input.name !== undefined) config.name = input.name;
  if (input.tier !== undefined) config.tier = input.tier;
  if (input.capacity !== undefined) config.capacity = input.capacity;
  if (input.capabilities !== undefined) config.capabilities = input.capabilities;
  if (input.transport !== undefined) config.transport = input.transport;
  const tls = Object.entries(input.tls ?? {}).filter(([, v]) => v !== undefined);
  if (tls.length > 0) {
    config.tls = { ...config.tls };
    for (const [k, v] of tls) Object.assign(config.tls, { [k]: typeof v === "string" ? path.resolve(v) : v });
  }
  writeConfigFile(configPath, config);
  return { configPath, config };
}

/** `gantry agent unregister`: forgets the saved identity (server and enrolment key stay). Returns false if none. */
export function forgetIdentity(configPath: string): boolean {
  const config = readConfigFile(configPath);
  if (!config.agentId && !config.key) return false;
  for (const f of IDENTITY_FIELDS) delete config[f];
  writeConfigFile(configPath, config);
  return true;
}
