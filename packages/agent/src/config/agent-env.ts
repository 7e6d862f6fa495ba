import { z } from "zod";

const csv = z
  .string()
  .transform((s) => s.split(/[\s,]+/).filter(Boolean))
  .optional();

/**
 * The agent's environment, parsed once. Flags beat these; these beat the config file.
 * `XDG_CONFIG_HOME`, `APPDATA` and `HOME` pick the platform config location.
 */
export const AgentEnv = z.object({
  GANTRY_AGENT_SERVER: z.string().url().optional(),
  GANTRY_AGENT_KEY: z.string().min(1).optional(),
  GANTRY_AGENT_CONFIG: z.string().min(1).optional(),
  GANTRY_AGENT_DATA: z.string().min(1).optional(),
  GANTRY_AGENT_NAME: z.string().min(1).optional(),
  GANTRY_AGENT_TIER: z.coerce.number().int().min(0).max(255).optional(),
  GANTRY_AGENT_CAPACITY: z.coerce.number().int().min(1).max(1024).optional(),
  GANTRY_AGENT_CAPS: csv,
  GANTRY_AGENT_TRANSPORT: z.enum(["ws", "poll"]).optional(),
  GANTRY_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).optional(),
  XDG_CONFIG_HOME: z.string().min(1).optional(),
  APPDATA: z.string().min(1).optional(),
  HOME: z.string().min(1).optional(),
});
export type AgentEnv = z.infer<typeof AgentEnv>;

/** Parses the environment; the one place the agent reads `process.env`. */
export function readAgentEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const parsed = AgentEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid environment variable ${String(issue?.path[0])}: ${issue?.message}`);
  }
  return parsed.data;
}

/** Variables commands run by executors inherit from the agent; everything else (keys, tokens) stays out. */
export const INHERITED_ENV = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM"];

/** The allow-listed variables (and `LC_*`) from the agent's environment, for executors' commands. */
export function inheritedEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && (INHERITED_ENV.includes(k) || k.startsWith("LC_"))) out[k] = v;
  }
  return out;
}
