import { GantryError } from "@gantry/protocol";
import type { FastifyRequest } from "fastify";
import { bearerOf, hasScope, type Principal, type Principals, type Scope } from "./principals.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** A preHandler that resolves the caller and requires one scope (admin implies all). */
export function requireScope(principals: Principals, scope: Scope) {
  return async (request: FastifyRequest): Promise<void> => {
    const credential = bearerOf(request.headers.authorization) ?? tokenFromQuery(request);
    if (!credential) throw new GantryError("auth_required");
    const principal = await principals.fromBearer(credential);
    if (!hasScope(principal, scope))
      throw new GantryError("auth_forbidden", `This credential lacks the ${scope} scope.`);
    request.principal = principal;
  };
}

/** Browsers cannot set headers on a WebSocket or EventSource, so those routes also take ?token=. */
function tokenFromQuery(request: FastifyRequest): string | undefined {
  const q = request.query as Record<string, unknown> | undefined;
  return typeof q?.token === "string" ? q.token : undefined;
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new GantryError("auth_required");
  return request.principal;
}
