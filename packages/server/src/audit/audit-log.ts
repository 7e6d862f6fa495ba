import type { AuditEvent } from "@gantry/protocol";
import { ulid } from "ulid";
import type { AuditEntry, Store } from "../store/store.ts";

/** What an audited action records: who, what, on what. `details` must never hold a secret. */
export interface AuditInput {
  actor: string | null;
  action: string;
  target: string | null;
  details?: Record<string, unknown>;
}

/** Records an admin action or failed login (durable before the caller answers). */
export function audit(store: Store, input: AuditInput): Promise<void> {
  return store.insertAudit({
    id: ulid(),
    at: Date.now(),
    actor: input.actor,
    action: input.action,
    target: input.target,
    details: input.details ?? null,
  });
}

export function auditView(e: AuditEntry): AuditEvent {
  return { ...e, at: new Date(e.at).toISOString() };
}
