import { z } from "zod";
import { AgentHealth, AgentMetrics, AgentStatus } from "./agent-http.ts";
import { CapabilitySummary } from "./capabilities.ts";
import { JobId, JobProgress, TOKENS_TEXT_MAX } from "./job.ts";
import { JobStatus } from "./job-status.ts";

/**
 * MQTT topics and payloads. Payloads are thin JSON: enough to drive a progress bar and to know when
 * to fetch the full job over HTTP. Every payload carries `v` (MQTT_PAYLOAD_VERSION).
 */
export const MQTT_PAYLOAD_VERSION = 1;
/** Largest MQTT packet the embedded broker accepts from a client, and the largest payload we publish. */
export const MQTT_MAX_PACKET_BYTES = 64 * 1024;
/** The WebSocket path of the embedded broker on the HTTP port. */
export const MQTT_WS_PATH = "/mqtt";

export const mqttTopics = {
  job: (id: string) => `gantry/jobs/${id}`,
  agent: (id: string) => `gantry/agents/${id}`,
  capabilities: "gantry/capabilities",
} as const;

/** The job id in `gantry/jobs/{id}`, or undefined for any other topic (wildcards included). */
export function jobIdOfTopic(topic: string): string | undefined {
  const m = /^gantry\/jobs\/([^/+#]+)$/.exec(topic);
  return m?.[1];
}

const base = { v: z.literal(MQTT_PAYLOAD_VERSION), jobId: JobId, at: z.string() };

/**
 * `gantry/jobs/{id}`, QoS 1. `status` events close with a terminal status; `log` carries only the
 * line's number (fetch lines over HTTP); `output` says the output is ready; `tokens` carries LLM text.
 */
export const MqttJobMessage = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("status"), status: JobStatus, epoch: z.number().int() }),
  z.object({ ...base, type: z.literal("progress"), progress: JobProgress }),
  z.object({ ...base, type: z.literal("log"), seq: z.number().int() }),
  z.object({ ...base, type: z.literal("output") }),
  /** LLM tokens: the text itself (at most TOKENS_TEXT_MAX characters), `seq` 1, 2, 3… per epoch. */
  z.object({
    ...base,
    type: z.literal("tokens"),
    epoch: z.number().int(),
    seq: z.number().int().positive(),
    text: z.string().max(TOKENS_TEXT_MAX),
  }),
]);
export type MqttJobMessage = z.infer<typeof MqttJobMessage>;

/** `gantry/agents/{id}`, retained while the agent is connected; an empty retained payload clears it. */
export const MqttAgentPresence = z.object({
  v: z.literal(MQTT_PAYLOAD_VERSION),
  agentId: z.string(),
  online: z.literal(true),
  capabilities: z.array(z.string()),
  tier: z.number().int(),
  capacity: z.number().int(),
  freeSlots: z.number().int().nonnegative(),
  draining: z.boolean(),
  /** From the latest heartbeat (so a dashboard draws live GPU figures without polling); absent before the first. */
  status: AgentStatus.optional(),
  metrics: AgentMetrics.optional(),
  health: AgentHealth.optional(),
});
export type MqttAgentPresence = z.infer<typeof MqttAgentPresence>;

/** `gantry/capabilities`, retained: the same summary as `GET /v1/capabilities`. */
export const MqttCapabilities = z.object({
  v: z.literal(MQTT_PAYLOAD_VERSION),
  at: z.string(),
  capabilities: z.array(CapabilitySummary),
  /** Some capabilities or attributes were left out to stay under CAPABILITY_SUMMARY_LIMITS.maxMqttBytes. */
  truncated: z.boolean().optional(),
  /** How many capabilities there are in all. */
  total: z.number().int().nonnegative().optional(),
});
export type MqttCapabilities = z.infer<typeof MqttCapabilities>;
