import { ErrorEnvelope, GantryError, JobFileParams, JobIdParams, ListJobFilesResponse } from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { canSeeJob } from "../auth/job-access.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import { sendBlob } from "./send-blob.ts";

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope };

/** A job's output files: list them, download one (Range, ETag). */
export const jobFileRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  const read = requireScope(ctx.principals, "jobs:read");

  const outputsOf = async (request: Parameters<typeof principalOf>[0], id: string) => {
    const p = principalOf(request);
    await ctx.store.barrier();
    const job = await ctx.store.getJob(id);
    if (!job || !canSeeJob(p, job)) throw new GantryError("job_not_found");
    return job.outputFiles;
  };

  app.get(
    "/v1/jobs/:id/files",
    {
      preHandler: read,
      schema: {
        summary: "List a job's output files",
        tags: ["files"],
        params: JobIdParams,
        response: { 200: ListJobFilesResponse, ...errors },
      },
    },
    async (request) => {
      const files = await outputsOf(request, request.params.id);
      return { files: files.map((f) => ({ name: f.name, hash: f.hash, size: f.size ?? 0 })) };
    },
  );

  app.get(
    "/v1/jobs/:id/files/:name",
    {
      preHandler: read,
      schema: { summary: "Download one output file (Range supported)", tags: ["files"], params: JobFileParams },
    },
    async (request, reply) => {
      const files = await outputsOf(request, request.params.id);
      const file = files.find((f) => f.name === request.params.name);
      if (!file) throw new GantryError("file_not_found", "The job has no output file of that name.");
      return sendBlob(ctx.files.blobs, request, reply, file);
    },
  );
};
