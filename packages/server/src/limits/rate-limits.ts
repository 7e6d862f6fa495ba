import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import { GantryError } from "@gantry/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { hashSecret } from "../auth/secrets.ts";

/** Requests one credential may make per window. */
export interface RateLimitOptions {
  /** @defaultValue 6000 */
  max: number;
  /** @defaultValue 60000 */
  timeWindowMs: number;
}

/**
 * The bucket a request counts against: its credential (hashed, so no secret sits in memory as a
 * key), or the client address when it sends none. Bucketing by the credential string, not a claim
 * inside it, means a forged token cannot spend someone else's allowance.
 */
function bucketOf(request: FastifyRequest): string {
  const auth = request.headers.authorization;
  const q = request.query as Record<string, unknown> | undefined;
  const credential = auth ?? (typeof q?.token === "string" ? q.token : undefined);
  return credential ? `c:${hashSecret(credential).slice(0, 32)}` : `ip:${request.ip}`;
}

/**
 * Per-credential rate limits (429 `rate_limited` with Retry-After) and CORS for browser clients.
 * Registered on the root (fastify-plugin style, via skip-override) so every route counts.
 */
export async function installLimits(
  app: FastifyInstance,
  limits: { rateLimit: RateLimitOptions | null; corsOrigins: string[] },
): Promise<void> {
  if (limits.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: limits.corsOrigins.includes("*") ? true : limits.corsOrigins,
      credentials: false,
      allowedHeaders: ["authorization", "content-type", "idempotency-key", "range"],
      exposedHeaders: [
        "retry-after",
        "content-range",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
      ],
    });
  }
  if (limits.rateLimit) {
    await app.register(rateLimit, {
      global: true,
      max: limits.rateLimit.max,
      timeWindow: limits.rateLimit.timeWindowMs,
      keyGenerator: bucketOf,
      // Health checks from load balancers are never limited.
      allowList: (request) => request.url === "/healthz",
      errorResponseBuilder: (_request, ctx) =>
        new GantryError("rate_limited", `Too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s.`, {
          limit: ctx.max,
          retryAfterSecs: Math.ceil(ctx.ttl / 1000),
        }),
    });
  }
}
