import { z } from "zod";
import { CapabilityString } from "./capability.ts";
import { FileRef } from "./files.ts";
import { JobStatus } from "./job-status.ts";
import { JSON_LIMITS, jsonValueDepthExceeds } from "./json-limits.ts";

/** Job ids are ULIDs: sortable by creation time. */
export const JobId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a ULID");
export const Timestamp = z.iso.datetime({ offset: true });

export const JobProgress = z.object({
  percent: z.number().min(0).max(100),
  stage: z.string().max(200).optional(),
  message: z.string().max(2000).optional(),
});
export type JobProgress = z.infer<typeof JobProgress>;

/**
 * Why an attempt ended badly. transient/model/inference/fatal come from agents (the GPU-agent seed's
 * categories); the rest are set by the server. Only `fatal` stops retries by itself.
 */
export const ErrorCategory = z.enum([
  "transient",
  "model",
  "inference",
  "fatal",
  "timeout",
  "lease_expired",
  "agent_lost",
  "cancelled",
]);
export type ErrorCategory = z.infer<typeof ErrorCategory>;

export const JobError = z.object({
  category: ErrorCategory,
  message: z.string().max(10_000),
  code: z.string().max(100).optional(),
});
export type JobError = z.infer<typeof JobError>;

export const JobAttempt = z.object({
  n: z.number().int().positive(),
  agentId: z.string(),
  epoch: z.number().int().positive(),
  startedAt: Timestamp,
  endedAt: Timestamp.nullable(),
  error: JobError.nullable(),
});
export type JobAttempt = z.infer<typeof JobAttempt>;

export const Job = z.object({
  id: JobId,
  capability: z.string(),
  payload: z.unknown(),
  inputs: z.array(FileRef),
  priority: z.number().int(),
  owner: z.string(),
  idempotencyKey: z.string().nullable(),
  timeoutSecs: z.number().nullable(),
  maxWaitSecs: z.number().nullable(),
  runtimeSecs: z.number().nullable(),
  maxAttempts: z.number().int(),
  backoffMs: z.number().int(),
  status: JobStatus,
  progress: JobProgress.nullable(),
  output: z.unknown().optional(),
  outputFiles: z.array(FileRef),
  error: JobError.nullable(),
  /** The current fencing epoch: rises with every attempt; 0 before the first. */
  epoch: z.number().int().nonnegative(),
  attempts: z.array(JobAttempt),
  agentId: z.string().nullable(),
  leaseExpiresAt: Timestamp.nullable(),
  cancelRequestedAt: Timestamp.nullable(),
  runAfter: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  startedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
});
export type Job = z.infer<typeof Job>;

export const JOB_DEFAULTS = { priority: 0, maxAttempts: 3, backoffMs: 1000 } as const;
/** The ceiling for one retry delay, whatever backoffMs and the attempt number say. */
export const MAX_BACKOFF_MS = 300_000;

/** A job's payload: any JSON, at most JSON_LIMITS.payloadMaxDepth deep and payloadMaxChars long. */
export const JobPayload = z.unknown().superRefine((value, ctx) => {
  if (jsonValueDepthExceeds(value, JSON_LIMITS.payloadMaxDepth)) {
    ctx.addIssue({
      code: "custom",
      message: `nests deeper than ${JSON_LIMITS.payloadMaxDepth} levels`,
      params: { code: "payload_too_deep", maxDepth: JSON_LIMITS.payloadMaxDepth },
    });
  } else if (value !== undefined && (JSON.stringify(value)?.length ?? 0) > JSON_LIMITS.payloadMaxChars) {
    ctx.addIssue({
      code: "custom",
      message: `is longer than ${JSON_LIMITS.payloadMaxChars} characters serialised`,
      params: { code: "payload_too_large", maxChars: JSON_LIMITS.payloadMaxChars },
    });
  }
});

export const SubmitJobRequest = z.strictObject({
  capability: CapabilityString,
  payload: JobPayload.optional(),
  inputs: z.array(FileRef).max(100).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
  /** Wall clock from creation: the job fails if not terminal by then. */
  timeoutSecs: z.number().positive().max(31_536_000).optional(),
  /** The job fails if no agent picks it up within this many seconds of creation. */
  maxWaitSecs: z.number().positive().max(31_536_000).optional(),
  /** Execution limit per attempt, enforced by the agent. */
  runtimeSecs: z.number().positive().max(31_536_000).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
  /** First retry delay; doubles per attempt with jitter, capped at MAX_BACKOFF_MS. */
  backoffMs: z.number().int().min(0).max(MAX_BACKOFF_MS).optional(),
});
export type SubmitJobRequest = z.infer<typeof SubmitJobRequest>;
export const SubmitJobResponse = Job;
export type SubmitJobResponse = Job;

export const SUBMIT_BATCH_MAX = 1000;
export const SubmitJobsBatchRequest = z.strictObject({
  jobs: z.array(SubmitJobRequest).min(1).max(SUBMIT_BATCH_MAX),
});
export type SubmitJobsBatchRequest = z.infer<typeof SubmitJobsBatchRequest>;
export const SubmitJobsBatchResponse = z.object({ jobs: z.array(Job) });
export type SubmitJobsBatchResponse = z.infer<typeof SubmitJobsBatchResponse>;

export const JobIdParams = z.strictObject({ id: JobId });

const StatusList = z
  .string()
  .transform((s) => s.split(","))
  .pipe(z.array(JobStatus).min(1));

export const ListJobsQuery = z.strictObject({
  status: StatusList.optional(),
  capability: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(200).optional(),
});
export type ListJobsQuery = z.infer<typeof ListJobsQuery>;
export const ListJobsResponse = z.object({ jobs: z.array(Job), nextCursor: z.string().nullable() });
export type ListJobsResponse = z.infer<typeof ListJobsResponse>;

/** `GET /v1/jobs/stats` takes no parameters; an unknown one is refused, as on every route. */
export const JobStatsQuery = z.strictObject({});

/** Counts of one set of jobs, one entry per status (zeros included). */
export const JobStatusCounts = z.object({
  queued: z.number().int(),
  assigned: z.number().int(),
  running: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
}) satisfies z.ZodType<Record<JobStatus, number>>;
export type JobStatusCounts = z.infer<typeof JobStatusCounts>;

/**
 * `GET /v1/jobs/stats`: how many jobs are in each status, overall and per base capability, over the
 * jobs the caller may see (its own, or everyone's for an admin), and when the oldest queued one was
 * submitted. Capabilities with no jobs are left out of byCapability.
 */
export const JobStatsResponse = z.object({
  total: z.number().int(),
  byStatus: JobStatusCounts,
  byCapability: z.record(z.string(), JobStatusCounts),
  oldestQueuedAt: Timestamp.nullable(),
});
export type JobStatsResponse = z.infer<typeof JobStatsResponse>;

export const LogStream = z.enum(["stdout", "stderr", "system"]);
export const LogLine = z.object({
  seq: z.number().int().positive(),
  ts: Timestamp,
  stream: LogStream,
  line: z.string(),
});
export type LogLine = z.infer<typeof LogLine>;
export const JobLogsQuery = z.strictObject({
  after: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export const JobLogsResponse = z.object({ lines: z.array(LogLine), nextAfter: z.number().int() });
export type JobLogsResponse = z.infer<typeof JobLogsResponse>;

/**
 * Characters of generated text in one `tokens` message or event. Longer turns are split into
 * several, so every hop (agent frame, cluster bus, SSE, WebSocket, MQTT packet) stays small.
 */
export const TOKENS_TEXT_MAX = 4000;

/** Thin job events (SSE, client WebSocket, MQTT). Full state is fetched over HTTP. */
export const JobEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("status"), jobId: JobId, status: JobStatus, epoch: z.number().int(), at: Timestamp }),
  z.object({ type: z.literal("progress"), jobId: JobId, progress: JobProgress, at: Timestamp }),
  z.object({
    type: z.literal("log"),
    jobId: JobId,
    seq: z.number().int(),
    stream: LogStream,
    line: z.string(),
    at: Timestamp,
  }),
  z.object({ type: z.literal("output"), jobId: JobId, at: Timestamp }),
  /**
   * Generated text (LLM tokens), in order: `seq` counts 1, 2, 3… within one attempt (`epoch`), so a
   * watcher sees a gap or a repeat, and a new epoch starts the text again. Not stored: the job's
   * output holds the whole text.
   */
  z.object({
    type: z.literal("tokens"),
    jobId: JobId,
    epoch: z.number().int(),
    seq: z.number().int().positive(),
    text: z.string().max(TOKENS_TEXT_MAX),
    at: Timestamp,
  }),
]);
export type JobEvent = z.infer<typeof JobEvent>;
