import { z } from "zod";
import { AGENT_CAPABILITIES_MAX } from "./agent-http.ts";
import { CapabilityString } from "./capability.ts";
import { Timestamp } from "./job.ts";

/**
 * Server → agent commands. The server signs each one as a compact JWS (EdDSA / Ed25519) whose payload
 * is a CommandBody; the agent verifies it with the key it pinned at registration (`commandKey`) and
 * refuses unsigned, tampered, expired, replayed or misaddressed commands.
 */
export const CommandType = z.enum(["drain", "resume", "update", "rescan", "diagnostics", "restart"]);
export type CommandType = z.infer<typeof CommandType>;

export const UpdateParams = z
  .strictObject({
    capabilities: z.array(CapabilityString).max(AGENT_CAPABILITIES_MAX).optional(),
    tier: z.number().int().min(0).max(255).optional(),
    capacity: z.number().int().min(1).max(1024).optional(),
  })
  .refine((p) => Object.keys(p).length > 0, "give at least one of capabilities, tier, capacity");

export const CommandRequest = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("drain") }),
  z.strictObject({ type: z.literal("resume") }),
  z.strictObject({ type: z.literal("update"), params: UpdateParams }),
  z.strictObject({ type: z.literal("rescan") }),
  z.strictObject({ type: z.literal("diagnostics") }),
  z.strictObject({ type: z.literal("restart") }),
]);
export type CommandRequest = z.infer<typeof CommandRequest>;

/** `POST /v1/agents/:id/commands` (admin). */
export const SendCommandRequest = z.intersection(
  CommandRequest,
  z.object({ ttlSecs: z.number().int().min(1).max(86_400).optional() }),
);
export type SendCommandRequest = z.infer<typeof SendCommandRequest>;

/** What the signature covers. */
export const CommandBody = z.intersection(
  CommandRequest,
  z.object({
    id: z.string().min(1).max(100),
    agentId: z.string(),
    /** Milliseconds since the epoch. */
    issuedAt: z.number().int(),
    expiresAt: z.number().int(),
  }),
);
export type CommandBody = z.infer<typeof CommandBody>;

export const CommandStatus = z.enum(["pending", "sent", "completed", "failed", "refused", "expired"]);
export type CommandStatus = z.infer<typeof CommandStatus>;

export const CommandView = z.object({
  id: z.string(),
  agentId: z.string(),
  type: CommandType,
  params: z.unknown(),
  status: CommandStatus,
  output: z.unknown().nullable(),
  error: z.string().nullable(),
  issuedAt: Timestamp,
  expiresAt: Timestamp,
  completedAt: Timestamp.nullable(),
});
export type CommandView = z.infer<typeof CommandView>;
export const ListCommandsResponse = z.object({ commands: z.array(CommandView) });
