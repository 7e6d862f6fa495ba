import { ERROR_CODES, type ErrorCode, GantryError, type ServerToAgent } from "@gantry/protocol";
import { isStorageFullError } from "../store/storage-errors.ts";
import type { FenceOutcome } from "../store/store.ts";

/**
 * What a message that the server failed to apply is answered with. Only the agent's own mistakes
 * (a GantryError in the 4xx range: schema, order) are final; anything else is the server's fault and
 * retryable (507 storage_full for the disk, 503 unavailable otherwise), so the agent keeps the message
 * in its outbox and sends it again instead of dropping a result.
 */
export function failureCode(err: unknown): ErrorCode {
  if (err instanceof GantryError) return err.code;
  return isStorageFullError(err) ? "storage_full" : "unavailable";
}

export function nack(ref: number, code: ErrorCode, message?: string): Extract<ServerToAgent, { type: "nack" }> {
  const spec = ERROR_CODES[code];
  return { type: "nack", ref, status: spec.status, error: { code, message: message ?? spec.message } };
}

/** A problem with a frame that has no ref to nack. */
export function errorFrame(code: ErrorCode, message?: string): ServerToAgent {
  return { type: "error", error: { code, message: message ?? ERROR_CODES[code].message } };
}

export function protocolError(message: string): ServerToAgent {
  return errorFrame("agent_protocol_error", message);
}

/** A fenced write's outcome as the agent's reply. */
export function fenceReply(ref: number, outcome: FenceOutcome): ServerToAgent[] {
  switch (outcome.kind) {
    case "ok":
      return [{ type: "ack", ref }];
    case "duplicate":
      return [{ type: "ack", ref, duplicate: true }];
    case "stale":
      return [nack(ref, "agent_lease_stale")];
    case "missing":
      return [nack(ref, "agent_job_unknown")];
  }
}
