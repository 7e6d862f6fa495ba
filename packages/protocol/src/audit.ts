import { z } from "zod";
import { Timestamp } from "./job.ts";

/** One recorded admin action or failed login (`GET /v1/audit`, newest first). Never holds a secret. */
export const AuditEvent = z.object({
  id: z.string(),
  at: Timestamp,
  /** The principal that acted; null for an anonymous failed login. */
  actor: z.string().nullable(),
  /** `user.create`, `user.update`, `user.delete`, `key.create`, `key.revoke`, `agent.revoke`, `command.send`, `auth.login_failed`, `auth.refresh_reused` */
  action: z.string(),
  target: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;
export const ListAuditResponse = z.object({ events: z.array(AuditEvent), next: z.string().nullable() });
export type ListAuditResponse = z.infer<typeof ListAuditResponse>;
