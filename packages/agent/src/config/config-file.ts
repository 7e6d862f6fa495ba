import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { BenchmarkSpec } from "./benchmark-spec.ts";

/**
 * The agent's saved config and identity: the offloadmq seed's `.offload-client.json` fields
 * (`server, apiKey, agentId, key, jwtToken, tokenExpiresIn`) plus optional settings so a flagless run
 * starts the same agent again. Unknown fields are kept (files written by the seed's client work).
 */
export const AgentConfigFile = z.looseObject({
  server: z.string().optional(),
  /** The enrolment key (`gnt_a_…`) used to register. */
  apiKey: z.string().optional(),
  agentId: z.string().optional(),
  /** The per-agent secret from registration. */
  key: z.string().optional(),
  jwtToken: z.string().optional(),
  /** When the JWT expires, in Unix seconds (the seed's field name). */
  tokenExpiresIn: z.number().optional(),
  name: z.string().optional(),
  tier: z.number().int().optional(),
  capacity: z.number().int().optional(),
  /** Capabilities given by the user (executor-detected ones are added at start). */
  capabilities: z.array(z.string()).optional(),
  transport: z.enum(["ws", "poll"]).optional(),
  dataDir: z.string().optional(),
  /** Executor plugin modules: file paths (relative to this file's folder), file URLs or package names. */
  executors: z.array(z.string()).optional(),
  /** Let `shell.bash` (and `benchmark` with a command of the job's) run arbitrary commands. */
  allowShell: z.boolean().optional(),
  /** The `llm` executor's models directory, GPU use and models in memory (docs/llm.md). */
  modelsDir: z.string().optional(),
  gpu: z.enum(["auto", "off"]).optional(),
  maxLoadedModels: z.number().int().min(1).max(64).optional(),
  /** Benchmarks the `benchmark` executor may run, by name. */
  benchmarks: z.record(z.string().min(1).max(200), BenchmarkSpec).optional(),
  /** TLS/mTLS files (absolute paths) and `insecure`, saved when given so flagless runs and services keep them. */
  tls: z
    .object({
      certFile: z.string().optional(),
      keyFile: z.string().optional(),
      caFile: z.string().optional(),
      insecure: z.boolean().optional(),
    })
    .optional(),
  /** The server's Ed25519 command key, pinned at registration. */
  commandKey: z.string().optional(),
  /** What the current identity was registered with (informational; hello sends the current profile). */
  registered: z
    .object({ capabilities: z.array(z.string()), tier: z.number(), capacity: z.number(), name: z.string().nullable() })
    .optional(),
});
export type AgentConfigFile = z.infer<typeof AgentConfigFile>;

/** Reads the config file; a missing file is an empty config, a malformed one is an error that names the file. */
export function readConfigFile(file: string): AgentConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; fix it or delete it to register again`);
  }
  const parsed = AgentConfigFile.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a valid agent config: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * Writes the config atomically with mode 0600 (it holds secrets): a temp file in the same directory,
 * fsync, rename, so a crash leaves either the old or the new file, never half of one.
 */
export function writeConfigFile(file: string, config: AgentConfigFile): void {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  // The seed's fields first, so the file reads like the seed's example.
  const { server, apiKey, agentId, key, jwtToken, tokenExpiresIn, ...rest } = config;
  const ordered = { server, apiKey, agentId, key, jwtToken, tokenExpiresIn, ...rest };
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(ordered, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
