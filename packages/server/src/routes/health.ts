import { HealthResponse } from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { GantryContext } from "../context.ts";

/** Liveness and the generated OpenAPI document. */
export const healthRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.get("/healthz", { schema: { summary: "Liveness", response: { 200: HealthResponse } } }, async () => ({
    status: "ok" as const,
    version: ctx.version,
  }));
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
};
