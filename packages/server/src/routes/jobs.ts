import {
  capabilityAllowed,
  ErrorEnvelope,
  GantryError,
  Job,
  JobIdParams,
  JobLogsQuery,
  JobLogsResponse,
  JobStatsQuery,
  JobStatsResponse,
  type JobStatusCounts,
  ListJobsQuery,
  ListJobsResponse,
  SubmitJobRequest,
  SubmitJobsBatchRequest,
  SubmitJobsBatchResponse,
} from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { assertMaySubmit, canSeeJob } from "../auth/job-access.ts";
import { hasScope, type Principal } from "../auth/principals.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import { multipartSubmit } from "../files/multipart-submit.ts";
import { jobView } from "../job-view.ts";
import type { JobRecord } from "../store/store.ts";

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 409: ErrorEnvelope };

/** The native job API: submit, batch submit, get, list, cancel, retry, logs. */
export const jobRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  const read = requireScope(ctx.principals, "jobs:read");
  const write = requireScope(ctx.principals, "jobs:write");
  const multipartBody = await multipartSubmit(app, ctx, write);

  const visible = async (principal: Principal, id: string): Promise<JobRecord> => {
    await ctx.store.barrier();
    const job = await ctx.store.getJob(id);
    if (!job || !canSeeJob(principal, job)) throw new GantryError("job_not_found");
    return job;
  };
  const withAttempts = async (jobs: JobRecord[]) => {
    const attempts = await ctx.store.getAttempts(jobs.map((j) => j.id));
    return jobs.map((j) => jobView(j, attempts.get(j.id)));
  };

  app.post(
    "/v1/jobs",
    {
      preValidation: multipartBody,
      preHandler: write,
      schema: {
        summary: "Submit a job (JSON, or multipart/form-data: a `job` field then its files)",
        body: SubmitJobRequest,
        response: { 200: Job, 201: Job, ...errors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      assertMaySubmit(p, request.body.capability);
      const owner = p.owner;
      const inputs = await ctx.files.resolveInputs(owner, request.body.inputs ?? []);
      const body = inputs.length ? { ...request.body, inputs } : request.body;
      const [outcome] = await ctx.lifecycle.submit(owner, [body]);
      // A new job has no attempts yet; only a replayed idempotent submit needs them looked up.
      const job = outcome!.created ? jobView(outcome!.job) : (await withAttempts([outcome!.job]))[0]!;
      return reply.status(outcome!.created ? 201 : 200).send(job);
    },
  );

  app.post(
    "/v1/jobs/batch",
    {
      preHandler: write,
      schema: {
        summary: "Submit up to 1000 jobs in one durable commit",
        body: SubmitJobsBatchRequest,
        response: { 201: SubmitJobsBatchResponse, ...errors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      for (const job of request.body.jobs) assertMaySubmit(p, job.capability);
      const owner = p.owner;
      const jobs = [];
      for (const job of request.body.jobs) {
        const inputs = await ctx.files.resolveInputs(owner, job.inputs ?? []);
        jobs.push(inputs.length ? { ...job, inputs } : job);
      }
      const outcomes = await ctx.lifecycle.submit(owner, jobs);
      return reply.status(201).send({ jobs: outcomes.map((o) => jobView(o.job)) });
    },
  );

  app.get(
    "/v1/jobs/:id",
    { preHandler: read, schema: { summary: "Get a job", params: JobIdParams, response: { 200: Job, ...errors } } },
    async (request) => {
      const job = await visible(principalOf(request), request.params.id);
      return (await withAttempts([job]))[0]!;
    },
  );

  app.get(
    "/v1/jobs",
    {
      preHandler: read,
      schema: {
        summary: "List jobs, newest first",
        querystring: ListJobsQuery,
        response: { 200: ListJobsResponse, ...errors },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const q = request.query;
      await ctx.store.barrier();
      const jobs = await ctx.store.listJobs({
        owner: hasScope(p, "admin") ? null : p.owner,
        statuses: q.status ?? null,
        capability: q.capability ?? null,
        beforeId: q.cursor === undefined ? null : decodeCursor(q.cursor),
        limit: q.limit,
      });
      const last = jobs.length === q.limit ? jobs[jobs.length - 1] : undefined;
      // A key limited to some capabilities sees only those jobs (a page may come back short).
      const shown = jobs.filter((j) => canSeeJob(p, j));
      return { jobs: await withAttempts(shown), nextCursor: last ? encodeCursor(last.id) : null };
    },
  );

  app.get(
    "/v1/jobs/stats",
    {
      preHandler: read,
      schema: {
        summary: "Counts of jobs per status and per capability (own jobs; every job for an admin)",
        querystring: JobStatsQuery,
        response: { 200: JobStatsResponse, ...errors },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const owner = hasScope(p, "admin") ? null : p.owner;
      await ctx.store.barrier();
      // Counters, not a count of the jobs: O(capabilities × statuses) however many jobs there are.
      // A key limited to some capabilities counts only those (as it lists only those).
      const cells = (await ctx.store.jobCounts(owner)).filter((c) => capabilityAllowed(p.capabilities, c.capability));
      const byStatus = zeroCounts();
      const byCapability: Record<string, JobStatusCounts> = {};
      let total = 0;
      const queuedCaps: string[] = [];
      for (const c of cells) {
        byStatus[c.status] += c.n;
        const perCap = byCapability[c.capability] ?? zeroCounts();
        perCap[c.status] += c.n;
        byCapability[c.capability] = perCap;
        total += c.n;
        if (c.status === "queued" && c.n > 0) queuedCaps.push(c.capability);
      }
      const oldest =
        queuedCaps.length === 0
          ? null
          : await ctx.store.oldestQueuedAt(owner, p.capabilities === null ? null : queuedCaps);
      return { total, byStatus, byCapability, oldestQueuedAt: oldest === null ? null : new Date(oldest).toISOString() };
    },
  );

  app.post(
    "/v1/jobs/:id/cancel",
    {
      preHandler: write,
      schema: { summary: "Cancel a job", params: JobIdParams, response: { 200: Job, ...errors } },
    },
    async (request) => {
      const job = await visible(principalOf(request), request.params.id);
      return (await withAttempts([await ctx.lifecycle.cancel(job)]))[0]!;
    },
  );

  app.post(
    "/v1/jobs/:id/retry",
    {
      preHandler: write,
      schema: { summary: "Retry a failed or cancelled job", params: JobIdParams, response: { 200: Job, ...errors } },
    },
    async (request) => {
      const job = await visible(principalOf(request), request.params.id);
      return (await withAttempts([await ctx.lifecycle.retry(job)]))[0]!;
    },
  );

  app.get(
    "/v1/jobs/:id/logs",
    {
      preHandler: read,
      schema: {
        summary: "Read a job's log lines after a sequence number",
        params: JobIdParams,
        querystring: JobLogsQuery,
        response: { 200: JobLogsResponse, ...errors },
      },
    },
    async (request) => {
      await visible(principalOf(request), request.params.id);
      const lines = await ctx.store.getLogs(request.params.id, request.query.after, request.query.limit);
      return {
        lines: lines.map((l) => ({ ...l, ts: new Date(l.ts).toISOString() })),
        nextAfter: lines.length ? lines[lines.length - 1]!.seq : request.query.after,
      };
    },
  );
};

function zeroCounts(): JobStatusCounts {
  return { queued: 0, assigned: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
}

const CURSOR = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function encodeCursor(id: string): string {
  return Buffer.from(`j:${id}`).toString("base64url");
}

function decodeCursor(cursor: string): string {
  const raw = Buffer.from(cursor, "base64url").toString();
  const id = raw.slice(2);
  if (!raw.startsWith("j:") || !CURSOR.test(id)) throw new GantryError("invalid_cursor");
  return id;
}
