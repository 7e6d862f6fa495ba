import { z } from "zod";
import { ErrorBody } from "./errors.ts";
import { Job, JobEvent, JobId, SUBMIT_BATCH_MAX } from "./job.ts";

/** Version of the client WebSocket protocol (`GET /v1/events/ws`). */
export const CLIENT_PROTOCOL_VERSION = 1;

/**
 * Largest client frame the server reads (bytes), the same bound as an HTTP request body: a submit
 * frame carries at most SUBMIT_BATCH_MAX jobs and must also fit in this. A larger frame is answered
 * with an `error` frame (payload_too_large) and changes nothing.
 */
export const CLIENT_FRAME_MAX_BYTES = 1024 * 1024;

/**
 * Client → server frames on the multiplexed socket. `submit` is the pipelined submit: each item is
 * a SubmitJobRequest, checked on its own (a bad item gets its own error in `submitted`; the others
 * are still submitted), under the same validation, scopes and rate limits as `POST /v1/jobs`.
 * `ref` is the client's, echoed in the answer.
 */
export const ClientToServer = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("subscribe"), jobIds: z.array(JobId).min(1).max(10_000) }),
  z.strictObject({ type: z.literal("unsubscribe"), jobIds: z.array(JobId).min(1).max(10_000) }),
  z.strictObject({
    type: z.literal("submit"),
    ref: z.number().int().nonnegative(),
    jobs: z.array(z.unknown()).min(1).max(SUBMIT_BATCH_MAX),
  }),
]);
export type ClientToServer = z.infer<typeof ClientToServer>;

/** One item of a `submitted` answer, in the order of the submit frame's jobs. */
export const SubmitItemResult = z.union([
  /** created false: an idempotent replay of an earlier submit (HTTP would answer 200). */
  z.object({ ok: z.literal(true), created: z.boolean(), job: Job }),
  z.object({ ok: z.literal(false), error: ErrorBody }),
]);
export type SubmitItemResult = z.infer<typeof SubmitItemResult>;

/** Server → client frames. A `subscribed` reply carries each job's current status so nothing is missed. */
export const ServerToClient = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), protocolVersion: z.number().int() }),
  z.object({ type: z.literal("subscribed"), jobIds: z.array(JobId), missing: z.array(JobId) }),
  z.object({ type: z.literal("event"), event: JobEvent }),
  /** The answer to a `submit`, sent after the created jobs are committed. */
  z.object({ type: z.literal("submitted"), ref: z.number().int(), results: z.array(SubmitItemResult) }),
  /** A frame that could not be read at all (not JSON, unknown type, too large); `ref` when it was readable. */
  z.object({ type: z.literal("error"), error: ErrorBody, ref: z.number().int().optional() }),
]);
export type ServerToClient = z.infer<typeof ServerToClient>;
