import os from "node:os";
import path from "node:path";
import { parseCapability } from "@gantry/protocol";
import type { Logger } from "pino";
import { readAgentEnv } from "../config/agent-env.ts";
import { AGENT_DEFAULTS, type AgentOptions } from "../config/agent-options.ts";
import { type AgentConfigFile, readConfigFile } from "../config/config-file.ts";
import { defaultDataDir, resolveConfigPath } from "../config/config-location.ts";
import { createLogger } from "../logging/create-logger.ts";
import { AgentStartError } from "./enrol.ts";
import { EXIT } from "./exit-codes.ts";

/** Everything `startAgent` needs, resolved once: options > config file > defaults. */
export interface AgentSettings {
  /** The options as given (to tell a flag from a default). */
  given: AgentOptions;
  /** The options over AGENT_DEFAULTS (fields without a file equivalent). */
  o: typeof AGENT_DEFAULTS & AgentOptions;
  configPath: string;
  file: AgentConfigFile;
  tier: number;
  capacity: number;
  /** Capabilities given by flag or file (detected ones are added later). */
  givenCaps: string[];
  transport: "ws" | "poll";
  name: string;
  dataDir: string;
  print: (line: string) => void;
  logger: Logger;
}

/** Reads the config file and merges it with the options; a malformed capability is a usage error. */
export function resolveSettings(options: AgentOptions): AgentSettings {
  const env = readAgentEnv();
  const configPath = resolveConfigPath(options.configPath, env);
  const file = readConfigFile(configPath);
  const o = {
    ...AGENT_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as typeof AGENT_DEFAULTS & AgentOptions;
  const givenCaps = options.capabilities ?? file.capabilities ?? [];
  for (const c of givenCaps) {
    try {
      parseCapability(c);
    } catch (err) {
      throw new AgentStartError(`Bad capability "${c}": ${(err as Error).message}`, EXIT.usage);
    }
  }
  return {
    given: options,
    o,
    configPath,
    file,
    tier: options.tier ?? file.tier ?? AGENT_DEFAULTS.tier,
    capacity: options.capacity ?? file.capacity ?? AGENT_DEFAULTS.capacity,
    givenCaps,
    transport: options.transport ?? file.transport ?? AGENT_DEFAULTS.transport,
    name: options.name ?? file.name ?? os.hostname(),
    dataDir: path.resolve(options.dataDir ?? file.dataDir ?? defaultDataDir(configPath)),
    print: o.print ?? ((line: string) => console.log(line)),
    logger: o.logger ?? createLogger({ level: o.logLevel, ...(o.logFile ? { file: o.logFile } : {}) }),
  };
}
