import { HealthResponse } from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { GantryContext } from "../context.ts";

/** Liveness and the generated OpenAPI document. */
export const healthRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.get("/healthz", { schema: { summary: "Liveness and health", response: { 200: HealthResponse } } }, async () => {
    const storage = ctx.store.storageIssue();
    if (storage === null) return { status: "ok" as const, version: ctx.version };
    const issue = { code: "storage_full", message: `Writes are failing (${storage}); free disk space.` };
    return { status: "degraded" as const, version: ctx.version, issues: [issue] };
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
};
