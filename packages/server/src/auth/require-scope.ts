import { GantryError } from "@gantry/protocol";
import type { FastifyRequest } from "fastify";
import { bearerOf, hasScope, type Principal, type Principals, type Scope } from "./principals.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The route may take its credential as ?token= (WebSocket upgrades, EventSource). */
    queryToken?: boolean;
  }
}

/** A preHandler that resolves the caller and requires one scope (admin implies all). */
export function requireScope(principals: Principals, scope: Scope) {
  return async (request: FastifyRequest): Promise<void> => {
    const principal = await resolve(principals, request);
    if (!hasScope(principal, scope))
      throw new GantryError("auth_forbidden", `This credential lacks the ${scope} scope.`);
    request.principal = principal;
  };
}

/** A preHandler that resolves the caller and requires no particular scope (who am I, logout). */
export function requireAuth(principals: Principals) {
  return async (request: FastifyRequest): Promise<void> => {
    request.principal = await resolve(principals, request);
  };
}

async function resolve(principals: Principals, request: FastifyRequest): Promise<Principal> {
  const header = bearerOf(request.headers.authorization);
  const credential = header ?? (request.routeOptions.config.queryToken ? tokenFromQuery(request) : undefined);
  if (credential) return principals.fromBearer(credential);
  // No credential: only a no-auth server (local development) has someone to be.
  if (principals.anonymous) return principals.anonymous;
  throw new GantryError("auth_required");
}

/** Browsers cannot set headers on a WebSocket or EventSource, so those routes also take ?token=. */
function tokenFromQuery(request: FastifyRequest): string | undefined {
  const q = request.query as Record<string, unknown> | undefined;
  return typeof q?.token === "string" ? q.token : undefined;
}

/**
 * An onRequest hook: ?token= only where a header can't be sent (routes with config.queryToken).
 * Elsewhere a credential in the URL (logged by proxies, kept in histories) is refused with 401,
 * before query validation could answer 400.
 */
export async function refuseQueryTokens(request: FastifyRequest): Promise<void> {
  if (request.routeOptions.config?.queryToken) return;
  if (tokenFromQuery(request) === undefined) return;
  throw new GantryError(
    "auth_required",
    "?token= is accepted only on WebSocket and event-stream routes; send 'Authorization: Bearer <key or token>'.",
  );
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new GantryError("auth_required");
  return request.principal;
}
