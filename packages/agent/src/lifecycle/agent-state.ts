import type { AgentHealth, AgentStatus } from "@gantry/protocol";

/**
 * The agent's lifecycle.
 *
 * - running  → draining (stop requested: new pushes are rejected, running jobs may finish)
 * - running  → stopped  (fatal: revoked identity, forced stop)
 * - draining → stopping (jobs done or drain timeout: outbox flush, deregister)
 * - draining → stopped  (second stop request: at once)
 * - stopping → stopped
 */
export type AgentState = "running" | "draining" | "stopping" | "stopped";

/** The status a heartbeat reports: draining wins, then an unhealthy self-check, then busy or idle. */
export function heartbeatStatus(state: AgentState, health: AgentHealth | undefined, running: number): AgentStatus {
  if (state !== "running") return "draining";
  if (health && !health.healthy) return "error";
  return running > 0 ? "busy" : "idle";
}
