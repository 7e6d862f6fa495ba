import { z } from "zod";

/** `POST /v1/auth/login`: user login for dashboard and SessionManager. */
export const LoginRequest = z.strictObject({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1000),
});
export const TokenResponse = z.object({
  accessToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number().int(),
  refreshToken: z.string(),
  tokenType: z.literal("Bearer"),
  /** Login only: the password is a bootstrap or reset one; change it with `POST /v1/auth/password`. */
  mustChangePassword: z.boolean().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;
export const RefreshRequest = z.strictObject({ refreshToken: z.string().min(1).max(500) });
/** `GET /v1/auth/me`: for an API key, `username` is null and `id` is the key's id. */
export const MeResponse = z.object({
  id: z.string(),
  kind: z.enum(["user", "api_key"]),
  username: z.string().nullable(),
  isAdmin: z.boolean(),
  permissions: z.array(z.string()),
  /** Capability patterns the credential is limited to; null: any. */
  capabilities: z.array(z.string()).nullable(),
});
export type MeResponse = z.infer<typeof MeResponse>;
/** `GET /v1/auth/jwks`: the public keys that verify access tokens (RFC 7517). */
export const JwksResponse = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

/**
 * `GET /healthz`: always 200 while the process serves HTTP; `degraded` when it cannot do its work
 * (e.g. `storage_full`: writes fail), with one issue per reason.
 */
export const HealthResponse = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  issues: z.array(z.object({ code: z.string(), message: z.string() })).optional(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
