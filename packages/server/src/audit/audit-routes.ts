import { ErrorEnvelope, ListAuditResponse, PageQuery } from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import { auditView } from "./audit-log.ts";

/** `GET /v1/audit`: admin actions and failed logins, newest first (admins only). */
export const auditRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.get(
    "/v1/audit",
    {
      preHandler: requireScope(ctx.principals, "admin"),
      schema: {
        summary: "List audit events",
        querystring: PageQuery,
        response: { 200: ListAuditResponse, 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const rows = await ctx.store.listAudit({ after: after ?? null, limit });
      return { events: rows.map(auditView), next: rows.length === limit ? (rows.at(-1)?.id ?? null) : null };
    },
  );
};
