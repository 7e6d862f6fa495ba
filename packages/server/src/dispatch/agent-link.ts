import type { AgentHealth, AgentMetrics, AgentStatus, AssignedJob, ServerToAgent } from "@gantry/protocol";

/**
 * One connected agent, whatever its transport. The dispatcher only asks how many slots are free and
 * hands over jobs; the transport decides how they travel (a WebSocket frame, or a parked long-poll).
 */
export interface AgentLink {
  readonly agentId: string;
  readonly transport: "ws" | "poll";
  tier: number;
  capacity: number;
  /** Base capability names this agent serves. */
  capabilities: Set<string>;
  /**
   * Ids of the jobs held (assigned or running) through this link. A set, not a counter: a release
   * for a job this link never held (it went to an older connection of the same agent) changes nothing.
   */
  readonly jobs: Set<string>;
  /**
   * Jobs in `jobs` that the server ended (deadline) while the agent may still be stopping them, with
   * when their slot is given up anyway. The slot stays taken until the agent reports the job ended,
   * stops listing it, or this time passes; freeing it earlier made the agent reject every new push.
   */
  readonly stopping: Map<string, number>;
  /** Creation order (process.hrtime): a link never replaces a newer link of the same agent. */
  readonly openedAt: bigint;
  /** Slots promised to an in-flight claim. */
  reserved: number;
  /** A draining agent finishes what it holds and takes nothing new. */
  draining: boolean;
  /** False once the transport is gone; jobs assigned to a closed link are requeued. */
  open: boolean;
  /** The agent's session epoch this link opened (Store.openAgentSession); 0 before hello. */
  session: number;
  /** The agent opened a newer session on another replica: this link is retired, never pushed to. */
  superseded: boolean;
  /** The latest heartbeat (kept here; written to the store when it changes and every 30 s). */
  heartbeat?: { status: AgentStatus; metrics: AgentMetrics | null; health: AgentHealth | null; lastSeenAt: number };
  persistedAt?: number;
  /** Last sign of life (any message, or a parked poll). */
  readonly lastSeenAt: number;
  /** When the credential behind the link runs out, if the link holds one. */
  readonly tokenExpiresAt?: number;
  /** Slots the transport can take right now, before held/reserved (a poll link: only while parked). */
  acceptable(): number;
  deliver(jobs: AssignedJob[]): void;
  send(messages: ServerToAgent[]): void;
  close(code: number, reason: string): void;
}

export function freeSlots(link: AgentLink): number {
  // An agent whose own heartbeat reports an error gets nothing until it reports otherwise.
  if (!link.open || link.draining || link.heartbeat?.status === "error") return 0;
  return Math.max(0, Math.min(link.acceptable(), link.capacity - link.jobs.size - link.reserved));
}

/** The dispatch bookkeeping every transport's link carries; hello fills it from the agent's record. */
export abstract class LinkBookkeeping {
  readonly agentId: string;
  tier = 0;
  capacity = 1;
  capabilities = new Set<string>();
  readonly jobs = new Set<string>();
  readonly stopping = new Map<string, number>();
  readonly openedAt = process.hrtime.bigint();
  reserved = 0;
  draining = false;
  open = true;
  session = 0;
  superseded = false;
  heartbeat?: AgentLink["heartbeat"];
  persistedAt?: number;

  constructor(agentId: string) {
    this.agentId = agentId;
  }
}
