import { capabilityAllowed, capabilityName, GantryError } from "@gantry/protocol";
import type { JobRecord } from "../store/store.ts";
import { isAdmin, type Principal } from "./principals.ts";

/**
 * Who may see a job (and its events, logs and files): its owner or an admin, and only within the
 * credential's capability patterns (a key limited to `llm.*` sees no `ocr.*` job, even its owner's).
 * Used by HTTP, SSE and the WebSocket alike; an invisible job is answered as a missing one.
 */
export function canSeeJob(p: Principal, job: Pick<JobRecord, "owner" | "capability">): boolean {
  return (job.owner === p.owner || isAdmin(p)) && capabilityAllowed(p.capabilities, job.capability);
}

/** Refuses (403) a submit outside the credential's capability patterns. */
export function assertMaySubmit(p: Principal, capability: string): void {
  let name: string;
  try {
    name = capabilityName(capability);
  } catch {
    return; // malformed: the submit path answers invalid_capability
  }
  if (!capabilityAllowed(p.capabilities, name)) {
    throw new GantryError(
      "auth_forbidden",
      `This credential may submit only ${p.capabilities?.join(", ")}; ${name} is outside them.`,
    );
  }
}
