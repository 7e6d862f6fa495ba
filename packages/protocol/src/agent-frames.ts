import { z } from "zod";
import { AGENT_CAPABILITIES_MAX, AgentHealth, AgentMetrics, AgentStatus } from "./agent-http.ts";
import { CapabilityString } from "./capability.ts";
import { ErrorBody } from "./errors.ts";
import { FileRef } from "./files.ts";
import { JobError, JobId, JobProgress, LogStream, TOKENS_TEXT_MAX } from "./job.ts";

/** Version of the agent protocol (WebSocket `GET /v1/agent/ws` and the HTTP fallback). */
export const AGENT_PROTOCOL_VERSION = 1;

const Epoch = z.number().int().positive();
/** Frames that need a reply carry `ref`; the server answers `ack` or `nack` with the same ref. */
const Ref = z.number().int().nonnegative();
export const HeldJob = z.object({ jobId: JobId, epoch: Epoch });
export type HeldJob = z.infer<typeof HeldJob>;

/** A job as pushed to an agent: what it needs to run one attempt. */
export const AssignedJob = z.object({
  id: JobId,
  capability: z.string(),
  payload: z.unknown(),
  inputs: z.array(FileRef),
  epoch: Epoch,
  attempt: z.number().int().positive(),
  runtimeSecs: z.number().nullable(),
  leaseExpiresAt: z.string(),
});
export type AssignedJob = z.infer<typeof AssignedJob>;

/**
 * Agent → server messages. A WebSocket frame holds one message or an array of them (batching).
 * The job messages are also accepted over HTTP: `POST /v1/agent/messages`.
 */
export const AgentToServer = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("hello"),
    protocolVersion: z.number().int(),
    /**
     * Jobs the agent still holds after a reconnect: running, or finished with a result still in its
     * outbox. The server keeps each one that is still this agent's and lists the rest in welcome.drop.
     */
    running: z.array(HeldJob).default([]),
    /** What the agent offers now, if it changed since registration (executors detected anew, flags). */
    capabilities: z.array(CapabilityString).max(AGENT_CAPABILITIES_MAX).optional(),
    capacity: z.number().int().min(1).max(1024).optional(),
    tier: z.number().int().min(0).max(255).optional(),
  }),
  z.strictObject({
    type: z.literal("heartbeat"),
    /** Echoed in `heartbeat:ack`, so the agent knows which of its heartbeats renewed its leases. */
    seq: z.number().int().nonnegative().optional(),
    status: AgentStatus,
    /** The jobs the agent holds: the server renews exactly these leases and reconciles the rest. */
    running: z.array(HeldJob).default([]),
    metrics: AgentMetrics.optional(),
    health: AgentHealth.optional(),
  }),
  /**
   * What the agent offers changed while connected (a model quarantined after a failed load, or its
   * quarantine over; files added to or removed from the models directory): the full list, replacing
   * the one from hello. No reply: a lost one is made good by the next hello, which carries the list too.
   */
  z.strictObject({
    type: z.literal("capabilities"),
    capabilities: z.array(CapabilityString).max(AGENT_CAPABILITIES_MAX),
  }),
  z.strictObject({ type: z.literal("job:started"), ref: Ref, jobId: JobId, epoch: Epoch }),
  z.strictObject({ type: z.literal("job:progress"), ref: Ref, jobId: JobId, epoch: Epoch, progress: JobProgress }),
  /** Generated text (LLM tokens) of one turn; `seq` counts 1, 2, 3… per attempt. Relayed, not stored. */
  z.strictObject({
    type: z.literal("job:tokens"),
    ref: Ref,
    jobId: JobId,
    epoch: Epoch,
    seq: z.number().int().positive(),
    text: z.string().min(1).max(TOKENS_TEXT_MAX),
  }),
  z.strictObject({
    type: z.literal("job:log"),
    ref: Ref,
    jobId: JobId,
    epoch: Epoch,
    lines: z
      .array(z.strictObject({ stream: LogStream, line: z.string().max(65_536) }))
      .min(1)
      .max(1000),
  }),
  z.strictObject({
    type: z.literal("job:completed"),
    ref: Ref,
    jobId: JobId,
    epoch: Epoch,
    output: z.unknown(),
    outputFiles: z.array(FileRef).optional(),
  }),
  z.strictObject({ type: z.literal("job:failed"), ref: Ref, jobId: JobId, epoch: Epoch, error: JobError }),
  /** Acknowledges a job:cancel: the attempt has stopped. */
  z.strictObject({ type: z.literal("job:cancelled"), ref: Ref, jobId: JobId, epoch: Epoch }),
  /** The agent will not run a pushed job (draining, or no slot): requeue without spending an attempt. */
  z.strictObject({
    type: z.literal("job:rejected"),
    ref: Ref,
    jobId: JobId,
    epoch: Epoch,
    reason: z.string().max(500),
  }),
  z.strictObject({ type: z.literal("token:refresh"), ref: Ref }),
  z.strictObject({ type: z.literal("deregister"), ref: Ref }),
  /**
   * The outcome of a server command. `refused` = failed verification (unsigned, tampered, expired,
   * replayed, not addressed to this agent); commandId is then whatever id could be read, if any.
   */
  z.strictObject({
    type: z.literal("command:result"),
    ref: Ref,
    commandId: z.string().max(100),
    status: z.enum(["completed", "failed", "refused"]),
    output: z.unknown().optional(),
    error: z.string().max(10_000).optional(),
  }),
]);
export type AgentToServer = z.infer<typeof AgentToServer>;
export type AgentToServerType = AgentToServer["type"];
export const AgentToServerFrame = z.union([AgentToServer, z.array(AgentToServer).min(1).max(10_000)]);

/** Server → agent messages. */
export const ServerToAgent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("welcome"),
    protocolVersion: z.number().int(),
    agentId: z.string(),
    heartbeatIntervalSecs: z.number(),
    leaseSecs: z.number(),
    /** Jobs from hello.running that are no longer this agent's: stop them, drop their results. */
    drop: z.array(HeldJob),
  }),
  /**
   * The answer to a heartbeat, sent after the commit that renewed the leases of the jobs it listed.
   * `drop`: jobs the heartbeat listed that are no longer this agent's at that epoch (requeued, expired,
   * finished elsewhere): stop them and forget their results.
   */
  z.object({
    type: z.literal("heartbeat:ack"),
    seq: z.number().int().nonnegative().optional(),
    drop: z.array(HeldJob),
  }),
  z.object({ type: z.literal("job:assign"), job: AssignedJob }),
  z.object({ type: z.literal("job:cancel"), jobId: JobId, epoch: Epoch }),
  z.object({ type: z.literal("ack"), ref: Ref, duplicate: z.boolean().optional() }),
  z.object({ type: z.literal("nack"), ref: Ref, status: z.number().int(), error: ErrorBody }),
  /** expiresIn: the token's absolute expiry in Unix seconds, as in `POST /agent/auth`. */
  z.object({ type: z.literal("token"), token: z.string(), expiresIn: z.number().int() }),
  /** A signed command: a compact JWS (EdDSA) over a CommandBody (agent-commands.ts). */
  z.object({ type: z.literal("command"), jws: z.string() }),
  /** A protocol-level problem with a frame that had no ref. */
  z.object({ type: z.literal("error"), error: ErrorBody }),
]);
export type ServerToAgent = z.infer<typeof ServerToAgent>;
export const ServerToAgentFrame = z.union([ServerToAgent, z.array(ServerToAgent)]);

/** `POST /v1/agent/messages` (HTTP fallback): job messages in, their replies and pending cancels out. */
export const AgentMessagesRequest = z.strictObject({ messages: z.array(AgentToServer).min(1).max(1000) });
export const AgentMessagesResponse = z.object({ replies: z.array(ServerToAgent) });
export type AgentMessagesResponse = z.infer<typeof AgentMessagesResponse>;

/** `GET /v1/agent/jobs/next` (HTTP fallback): the jobs pushed to a parked poll, possibly none. */
export const NextJobsResponse = z.object({ jobs: z.array(AssignedJob) });
export type NextJobsResponse = z.infer<typeof NextJobsResponse>;
