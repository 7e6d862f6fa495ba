import { z } from "zod";

/**
 * The one job status enum, used by server, SDK, CLI, dashboard and MQTT.
 *
 * Transitions:
 * - queued    → assigned (dispatch), cancelled (cancel), failed (deadline)
 * - assigned  → running (agent started), queued (requeue: agent gone before start, lease lost, retry),
 *               cancelled (agent acknowledged cancel), failed
 * - running   → completed, failed, queued (retry with backoff), cancelled (agent acknowledged)
 * - completed, failed, cancelled are terminal; only an explicit retry moves failed/cancelled to queued.
 */
export const JobStatus = z.enum(["queued", "assigned", "running", "completed", "failed", "cancelled"]);
export type JobStatus = z.infer<typeof JobStatus>;

export const TERMINAL_STATUSES: readonly JobStatus[] = ["completed", "failed", "cancelled"];
export const HELD_STATUSES: readonly JobStatus[] = ["assigned", "running"];

export function isTerminal(status: JobStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}
