import type { AgentMetrics, AgentToServer, ServerToAgent } from "@gantry/protocol";
import type { AgentLink } from "../dispatch/agent-link.ts";
import type { Dispatcher } from "../dispatch/dispatcher.ts";
import type { JobLifecycle } from "../dispatch/job-lifecycle.ts";
import type { SlotKeeper } from "../dispatch/slot-keeper.ts";
import type { ResolvedServerOptions } from "../server-options.ts";
import type { Store } from "../store/store.ts";

type Heartbeat = Extract<AgentToServer, { type: "heartbeat" }>;

const HEARTBEAT_PERSIST_MS = 30_000;
/**
 * With a shared database other replicas show this agent from its row (GET /v1/agents), so it is
 * written with every heartbeat, at most once a second per agent: with the default 10 s heartbeat, 10k
 * agents are 1,000 rows a second, which the PostgreSQL store writes as one UPDATE per event-loop turn.
 */
const SHARED_PERSIST_MS = 1_000;

export interface AgentHeartbeatsDeps {
  store: Store;
  dispatcher: Dispatcher;
  lifecycle: JobLifecycle;
  slots: SlotKeeper;
  options: ResolvedServerOptions;
}

/**
 * Heartbeats: the agent's status, and the one place its leases are renewed. A heartbeat lists the
 * jobs the agent holds; exactly those leases are renewed, and every heartbeat is answered with
 * `heartbeat:ack {seq, drop}` after that commit. Held jobs the agent stopped listing go back: an
 * assigned one (the push never arrived) without spending an attempt, a running one as lost.
 */
export class AgentHeartbeats {
  readonly #d: AgentHeartbeatsDeps;

  constructor(deps: AgentHeartbeatsDeps) {
    this.#d = deps;
  }

  async beat(agentId: string, link: AgentLink | undefined, msg: Heartbeat): Promise<ServerToAgent[]> {
    const now = Date.now();
    const { heartbeatIntervalSecs, leaseSecs } = this.#d.options;
    // Longer than a push takes to arrive and the next heartbeat to list it; shorter than a lease, so
    // an agent that lost a job hears of it before the sweeper would expire it anyway.
    const graceMs = Math.min(Math.max(2 * heartbeatIntervalSecs * 1000, 1000), (leaseSecs * 1000) / 2);
    const [renewal] = await Promise.all([
      this.#d.store.renewLeases(agentId, msg.running, now, now + leaseSecs * 1000, now - graceMs),
      this.#record(agentId, link, msg, now),
    ]);
    const lost = renewal.unlisted.filter((j) => j.status === "running");
    await this.#d.lifecycle.releaseUnstarted(agentId, renewal.unlisted, "the agent never received the job");
    for (const j of lost) await this.#d.lifecycle.lost(agentId, j, "the agent no longer has the job");
    if (link) this.#d.slots.listed(link, msg.running, now);
    const ack: ServerToAgent = { type: "heartbeat:ack", drop: renewal.drop };
    if (msg.seq !== undefined) ack.seq = msg.seq;
    return [ack];
  }

  /**
   * The latest heartbeat lives on the link (GET /v1/agents reads it there); the store gets it when the
   * status changes and at most every HEARTBEAT_PERSIST_MS, since an fsync'd write per beat of 10k idle
   * agents cost 14-18% of a core in bench/. On a shared database, at most every SHARED_PERSIST_MS.
   */
  async #record(agentId: string, link: AgentLink | undefined, msg: Heartbeat, now: number): Promise<void> {
    // An agent shutting down reports draining; only a resume command or a new connection undoes it.
    if (link && msg.status === "draining") link.draining = true;
    const state = { status: msg.status, metrics: msg.metrics ?? null, health: msg.health ?? null, lastSeenAt: now };
    const previous = link?.heartbeat;
    if (link) link.heartbeat = state;
    // Out of an error state: it may take work again.
    if (link && previous?.status === "error" && state.status !== "error") this.#d.dispatcher.kickLink(link);
    // Loaded models change rarely (a swap) and other replicas show them (GET /v1/agents): written at once.
    const persist =
      !link ||
      !previous ||
      previous.status !== state.status ||
      sameModels(previous.metrics, state.metrics) === false ||
      now - (link.persistedAt ?? 0) >= (this.#d.options.db ? SHARED_PERSIST_MS : HEARTBEAT_PERSIST_MS);
    if (!persist) return;
    if (link) link.persistedAt = now;
    await this.#d.store.updateAgentState(agentId, state);
  }
}

function sameModels(a: AgentMetrics | null, b: AgentMetrics | null): boolean {
  return (a?.loadedModels ?? []).join("\n") === (b?.loadedModels ?? []).join("\n");
}
