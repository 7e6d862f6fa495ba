import { z } from "zod";
import { CAPABILITY_MAX_LENGTH, CapabilityString } from "./capability.ts";
import { Timestamp } from "./job.ts";
import { SystemInfo } from "./system-info.ts";

export const AGENT_CAPABILITIES_MAX = 256;
/** Most models one heartbeat may report as loaded (`--max-loaded-models` is far below this). */
export const LOADED_MODELS_MAX = 64;

/**
 * `POST /agent/register` (also `POST /agents`): the offloadmq seed's registration. Unknown fields are
 * ignored (stripped), as upstream does: real OffloadMQ agents send more than the seed lists.
 */
export const RegisterAgentRequest = z.object({
  /** The enrolment key (`gnt_a_…`). */
  apiKey: z.string().min(1).max(200),
  capabilities: z.array(CapabilityString).max(AGENT_CAPABILITIES_MAX).default([]),
  tier: z.number().int().min(0).max(255).default(5),
  capacity: z.number().int().min(1).max(1024).default(1),
  systemInfo: SystemInfo.default({}),
  name: z.string().min(1).max(200).optional(),
  /** What real OffloadMQ agents call themselves in the agent list. */
  displayName: z.string().max(50).optional(),
  /** The agent software's version, as real OffloadMQ agents send it; accepted, not stored. */
  appVersion: z.string().max(100).optional(),
  /**
   * With a server running `--agent-mtls`: a PKCS#10 certificate request (PEM) for the agent's own key.
   * The server signs a client certificate bound to the new agent id with its agent CA.
   */
  csr: z.string().min(1).max(16_384).optional(),
});
export type RegisterAgentRequest = z.input<typeof RegisterAgentRequest>;

export const RegisterAgentResponse = z.object({
  agentId: z.string(),
  /** The per-agent secret; shown once, stored hashed. */
  key: z.string(),
  message: z.literal("Registered"),
  tier: z.number().int(),
  heartbeatIntervalSecs: z.number(),
  /** The server's Ed25519 public key (base64url raw), pinned by the agent to verify commands. */
  commandKey: z.string(),
  /** With `csr`: the agent's client certificate (PEM), subject CN = agentId. */
  certificate: z.string().optional(),
  /** With `csr`: the server's agent CA (PEM); store it as the agent's `certs/ca.pem`. */
  caCertificate: z.string().optional(),
});
export type RegisterAgentResponse = z.infer<typeof RegisterAgentResponse>;

/** `POST /agent/auth`: trade the per-agent secret for a short-lived JWT. */
export const AuthAgentRequest = z.strictObject({
  agentId: z.string().min(1).max(100),
  key: z.string().min(1).max(200),
});
export type AuthAgentRequest = z.infer<typeof AuthAgentRequest>;
export const AuthAgentResponse = z.object({
  token: z.string(),
  /**
   * The token's ABSOLUTE expiry in Unix seconds (the JWT's `exp`), as upstream OffloadMQ answers and
   * the seed's `.offload-client.json` stores it (`"tokenExpiresIn": 1755393572`), despite the name.
   */
  expiresIn: z.number().int().positive(),
});
export type AuthAgentResponse = z.infer<typeof AuthAgentResponse>;

export const PingResponse = z.object({ status: z.literal("ok") });

export const AgentStatus = z.enum(["idle", "busy", "draining", "error"]);
export type AgentStatus = z.infer<typeof AgentStatus>;

export const AgentHealth = z.object({
  healthy: z.boolean(),
  issues: z.array(z.string()),
  warnings: z.array(z.string()),
});
export type AgentHealth = z.infer<typeof AgentHealth>;

export const GpuUsage = z.object({
  index: z.number().int(),
  utilizationPercent: z.number().nullable(),
  memoryUsedMb: z.number().nullable(),
});

export const AgentMetrics = z.looseObject({
  cpuPercent: z.number().optional(),
  memoryUsedMb: z.number().optional(),
  memoryTotalMb: z.number().optional(),
  diskFreeMb: z.number().optional(),
  netRxBytes: z.number().optional(),
  netTxBytes: z.number().optional(),
  gpus: z.array(GpuUsage).optional(),
  uptimeSecs: z.number().optional(),
  /**
   * Models the agent holds in memory now, as base capability names (`llm.tiny-a`): the dispatcher
   * prefers an agent that has a job's model loaded over one that would have to swap (docs/llm.md).
   */
  loadedModels: z.array(z.string().max(CAPABILITY_MAX_LENGTH)).max(LOADED_MODELS_MAX).optional(),
});
export type AgentMetrics = z.infer<typeof AgentMetrics>;

/** What `GET /v1/agents` shows for one agent. */
export const AgentView = z.object({
  id: z.string(),
  name: z.string().nullable(),
  /** The display name an OffloadMQ agent registered with (≤ 50 characters). */
  displayName: z.string().nullable(),
  capabilities: z.array(z.string()),
  tier: z.number().int(),
  capacity: z.number().int(),
  online: z.boolean(),
  status: AgentStatus.nullable(),
  transport: z.enum(["ws", "poll"]).nullable(),
  runningJobs: z.array(z.string()),
  systemInfo: SystemInfo,
  metrics: AgentMetrics.nullable(),
  health: AgentHealth.nullable(),
  registeredAt: Timestamp,
  lastSeenAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
export type AgentView = z.infer<typeof AgentView>;
export const ListAgentsResponse = z.object({ agents: z.array(AgentView) });
export const AgentIdParams = z.strictObject({ id: z.string().min(1).max(100) });

/** `GET /v1/agent/jobs/next?wait=30&max=N`: the long-poll fallback. */
export const NextJobsQuery = z.strictObject({
  wait: z.coerce.number().min(0).max(60).default(30),
  max: z.coerce.number().int().min(1).max(100).default(1),
});
