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
});
export type TokenResponse = z.infer<typeof TokenResponse>;
export const RefreshRequest = z.strictObject({ refreshToken: z.string().min(1).max(500) });
export const MeResponse = z.object({
  principal: z.string(),
  kind: z.enum(["user", "api_key"]),
  scopes: z.array(z.string()),
});

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
