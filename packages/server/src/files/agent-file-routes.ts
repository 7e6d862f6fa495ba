import { AgentFileQuery, ErrorEnvelope, GantryError, JobFileParams, UploadFileResponse } from "@gantry/protocol";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { bearerOf } from "../auth/principals.ts";
import type { GantryContext } from "../context.ts";
import type { FenceOutcome, JobRecord } from "../store/store.ts";
import { acceptRawBodies, declaredLength } from "./raw-body.ts";
import { sendBlob } from "./send-blob.ts";

const errors = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  409: ErrorEnvelope,
  413: ErrorEnvelope,
};

/**
 * The agent's file routes, fenced like every agent message: the agent's JWT plus the epoch it holds
 * the job at (`?epoch=`). A stale epoch is refused with agent_lease_stale before a byte is read, and
 * again when the upload is recorded (the lease may lapse while the bytes move); then nothing is kept.
 */
export const agentFileRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  acceptRawBodies(app);

  const heldJob = async (request: FastifyRequest, id: string, epoch: number): Promise<JobRecord> => {
    const { agent } = await ctx.agents.enrolment.verify(bearerOf(request.headers.authorization));
    await ctx.store.barrier();
    const job = await ctx.store.getJob(id);
    if (!job) throw new GantryError("agent_job_unknown");
    const held = job.status === "assigned" || job.status === "running";
    if (!held || job.agentId !== agent.id || job.epoch !== epoch) throw new GantryError("agent_lease_stale");
    return job;
  };

  app.put(
    "/v1/agent/jobs/:id/files/:name",
    {
      schema: {
        summary: "Upload an output file of a job this agent holds (raw body)",
        tags: ["agent"],
        params: JobFileParams,
        querystring: AgentFileQuery,
        response: { 201: UploadFileResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { id, name } = request.params;
      const job = await heldJob(request, id, request.query.epoch);
      // Outputs are never refused for the owner's quota (the agent cannot fix that); they count
      // towards it, so the owner's next upload is. The size limit applies.
      ctx.files.precheck(declaredLength(request.headers["content-length"]), false);
      const staged = await ctx.files.stage(request.raw);
      const file = { hash: staged.hash, size: staged.size, name };
      let outcome: FenceOutcome;
      try {
        outcome = await ctx.store.addJobOutput(id, job.agentId!, request.query.epoch, file, Date.now());
      } catch (err) {
        await staged.discard();
        throw err;
      }
      if (outcome.kind !== "ok") {
        await staged.discard();
        throw new GantryError(outcome.kind === "missing" ? "agent_job_unknown" : "agent_lease_stale");
      }
      await staged.commit();
      ctx.events.emit({ type: "output", jobId: id, at: new Date().toISOString() });
      return reply.status(201).send(file);
    },
  );

  app.get(
    "/v1/agent/jobs/:id/files/:name",
    {
      schema: {
        summary: "Download an input file of a job this agent holds (Range supported)",
        tags: ["agent"],
        params: JobFileParams,
        querystring: AgentFileQuery,
      },
    },
    async (request, reply) => {
      const job = await heldJob(request, request.params.id, request.query.epoch);
      const file = job.inputs.find((f) => f.name === request.params.name);
      if (!file) throw new GantryError("file_not_found", "The job has no input file of that name.");
      return sendBlob(ctx.files.blobs, request, reply, file);
    },
  );
};
