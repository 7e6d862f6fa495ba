import type { HeldJob } from "@gantry/protocol";
import type { ClusterBus } from "../cluster/cluster-bus.ts";
import type { AgentLink } from "./agent-link.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import type { Dispatcher } from "./dispatcher.ts";

export interface SlotKeeperDeps {
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  /** How long a slot stays taken for a job the server ended while its agent may still run it. */
  leaseMs: number;
  /** The agent's link may be on another replica (a lease or deadline sweep ran here): tell it. */
  bus?: ClusterBus;
}

/**
 * Which slots of a connected agent are taken. A slot is given up when the job ends on the agent's
 * word; a job the server ends itself (a deadline) keeps its slot until the agent has stopped it
 * (reports any end for it, or stops listing it in heartbeats) or a lease passes without the agent
 * listing it. Freeing it at once made the server push work the busy agent could only reject.
 */
export class SlotKeeper {
  readonly #d: SlotKeeperDeps;

  constructor(deps: SlotKeeperDeps) {
    this.#d = deps;
  }

  /** The job ended and the agent is done with it: its slot is free. */
  release(agentId: string, jobId: string): void {
    const link = this.#d.registry.get(agentId);
    if (link) this.#free(link, jobId);
    else this.#d.bus?.publish({ kind: "slot:release", agentId, jobId });
  }

  /** The server ended a job its agent may still be running: keep the slot until it has stopped. */
  holdUntilStopped(agentId: string, jobId: string, now: number): void {
    const link = this.#d.registry.get(agentId);
    if (link?.jobs.has(jobId)) link.stopping.set(jobId, now + this.#d.leaseMs);
    else if (!link) this.#d.bus?.publish({ kind: "slot:hold", agentId, jobId, at: now });
  }

  /** A release or hold decided on another replica, for a link held here (cluster-wiring). */
  fromCluster(msg: { kind: "slot:release" | "slot:hold"; agentId: string; jobId: string; at?: number }): void {
    const link = this.#d.registry.get(msg.agentId);
    if (!link) return;
    if (msg.kind === "slot:release") this.#free(link, msg.jobId);
    else if (link.jobs.has(msg.jobId)) link.stopping.set(msg.jobId, (msg.at ?? Date.now()) + this.#d.leaseMs);
  }

  /** The agent reported an end (any outcome) for a job: if the server had ended it, it has stopped. */
  stopped(agentId: string, jobId: string): void {
    const link = this.#d.registry.get(agentId);
    if (link?.stopping.has(jobId)) this.#free(link, jobId);
  }

  /** A heartbeat: stopping jobs it still lists keep their slot a lease longer; the others free it. */
  listed(link: AgentLink, running: HeldJob[], now: number): void {
    if (link.stopping.size === 0) return;
    const listed = new Set(running.map((h) => h.jobId));
    for (const jobId of [...link.stopping.keys()]) {
      if (listed.has(jobId)) link.stopping.set(jobId, now + this.#d.leaseMs);
      else this.#free(link, jobId);
    }
  }

  /** Slots held for stopping jobs whose time ran out (the agent went quiet about them). */
  releaseOverdue(link: AgentLink, now: number): void {
    for (const [jobId, until] of [...link.stopping]) if (until < now) this.#free(link, jobId);
  }

  #free(link: AgentLink, jobId: string): void {
    link.stopping.delete(jobId);
    if (link.jobs.delete(jobId)) this.#d.dispatcher.kickLink(link);
  }
}
