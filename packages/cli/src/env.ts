import { z } from "zod";

/** Unset and empty variables both mean "not given". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), schema.optional());

/**
 * The CLI's environment, parsed once at startup; nothing else reads process.env. Flags win over
 * these, and these over defaults.
 */
export const CliEnv = z.object({
  /** Server URL for client commands (`--url`). */
  GANTRY_URL: optional(z.url({ protocol: /^https?$/, error: "GANTRY_URL must be an http(s) URL" })),
  /** Client API key or access token for client commands (`--key`). */
  GANTRY_API_KEY: optional(z.string()),
  /** Which `gantry login` profile client commands use (`--profile`). */
  GANTRY_PROFILE: optional(z.string()),
  /** `gantry login --username`: the password (kept out of argv; else read from stdin). */
  GANTRY_PASSWORD: optional(z.string()),
  /** `gantry admin users create|update --reset-password`: the password to set (kept out of argv). */
  GANTRY_NEW_PASSWORD: optional(z.string()),
  /** `gantry server` / `gantry dev`: port (`--port`). */
  GANTRY_PORT: optional(z.coerce.number().int().min(0).max(65_535)),
  /** `gantry server`: bind address (`--host`). */
  GANTRY_HOST: optional(z.string()),
  /** `gantry server` / `gantry dev`: data directory (`--data`). */
  GANTRY_DATA_DIR: optional(z.string()),
  /** `gantry server` / `gantry dev`: log level (`--log-level`). */
  GANTRY_LOG_LEVEL: optional(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])),
  /** `gantry server`: the shared database, a postgres:// URL (`--db`). */
  GANTRY_DB: optional(z.string().regex(/^postgres(ql)?:\/\//, "GANTRY_DB must be a postgres:// URL")),
  /** `gantry server`: the blob directory replicas share (`--blob-dir`). */
  GANTRY_BLOB_DIR: optional(z.string()),
  /** `gantry server`: days finished jobs are kept, 0 for ever (`--retention-days`). */
  GANTRY_RETENTION_DAYS: optional(z.coerce.number().min(0)),
  /** `gantry server`: days audit entries are kept, 0 for ever (`--audit-retention-days`). */
  GANTRY_AUDIT_RETENTION_DAYS: optional(z.coerce.number().min(0)),
});
export type CliEnv = z.infer<typeof CliEnv>;

/** Parses an environment; throws a message naming each bad variable. */
export function parseEnv(source: Record<string, string | undefined>): CliEnv {
  const parsed = CliEnv.safeParse(source);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  throw new EnvError(`bad environment: ${problems}`);
}

export class EnvError extends Error {
  override readonly name = "EnvError";
}

/** The process environment, parsed. The one place process.env is read. */
export function loadEnv(): CliEnv {
  return parseEnv(process.env);
}
