import { GantryError, isTerminal, type JobEvent, JobIdParams } from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { hasScope } from "../auth/principals.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";

const KEEPALIVE_MS = 15_000;

/**
 * `GET /v1/jobs/:id/events`: Server-Sent Events for one job. Opens with the current status (and
 * progress), then live events; ends after a terminal status.
 */
export const sseRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.get(
    "/v1/jobs/:id/events",
    {
      preHandler: requireScope(ctx.principals, "jobs:read"),
      // EventSource cannot send headers.
      config: { queryToken: true },
      schema: { summary: "Follow a job's events (text/event-stream)", params: JobIdParams },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const id = request.params.id;
      // Subscribe before reading the snapshot so nothing between the two is lost.
      const buffered: JobEvent[] = [];
      let write: (e: JobEvent) => void = (e) => buffered.push(e);
      const unsubscribe = ctx.events.subscribe(id, (e) => write(e));
      await ctx.store.barrier();
      const job = await ctx.store.getJob(id);
      if (!job || (job.owner !== principal.owner && !hasScope(principal, "admin"))) {
        unsubscribe();
        throw new GantryError("job_not_found");
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      let n = 0;
      let ended = false;
      const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(keepalive);
        unsubscribe();
        res.end();
      };
      write = (e) => {
        if (ended) return;
        res.write(`id: ${++n}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        if (e.type === "status" && isTerminal(e.status)) end();
      };
      const at = new Date().toISOString();
      if (job.progress && !isTerminal(job.status)) write({ type: "progress", jobId: id, progress: job.progress, at });
      write({ type: "status", jobId: id, status: job.status, epoch: job.epoch, at });
      for (const e of buffered) write(e);
      request.raw.on("close", end);
    },
  );
};
