import { z } from "zod";
import { ErrorBody } from "./errors.ts";
import { JobEvent, JobId } from "./job.ts";

/** Version of the client WebSocket protocol (`GET /v1/events/ws`). */
export const CLIENT_PROTOCOL_VERSION = 1;

/** Client → server frames on the multiplexed watch socket. */
export const ClientToServer = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("subscribe"), jobIds: z.array(JobId).min(1).max(10_000) }),
  z.strictObject({ type: z.literal("unsubscribe"), jobIds: z.array(JobId).min(1).max(10_000) }),
]);
export type ClientToServer = z.infer<typeof ClientToServer>;

/** Server → client frames. A `subscribed` reply carries each job's current status so nothing is missed. */
export const ServerToClient = z.discriminatedUnion("type", [
  z.object({ type: z.literal("hello"), protocolVersion: z.number().int() }),
  z.object({ type: z.literal("subscribed"), jobIds: z.array(JobId), missing: z.array(JobId) }),
  z.object({ type: z.literal("event"), event: JobEvent }),
  z.object({ type: z.literal("error"), error: ErrorBody }),
]);
export type ServerToClient = z.infer<typeof ServerToClient>;
