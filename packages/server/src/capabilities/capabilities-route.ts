import { CapabilitiesQuery, CapabilitiesResponse } from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import { boundSummary, summarizeCapabilities } from "./capability-summary.ts";

/** `GET /v1/capabilities`: what the fleet can run now, for clients (any credential with jobs:read). */
export const capabilitiesRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.get(
    "/v1/capabilities",
    {
      preHandler: requireScope(ctx.principals, "jobs:read"),
      schema: {
        summary: "Capabilities with online agents, free slots and queued jobs (bounded; ?name=a,b for given ones)",
        querystring: CapabilitiesQuery,
        response: { 200: CapabilitiesResponse },
      },
    },
    async (request) => {
      const all = await summarizeCapabilities(ctx);
      const names = request.query.name;
      return boundSummary(names ? all.filter((c) => names.includes(c.name)) : all);
    },
  );
};
