import type { ServerToAgent } from "@gantry/protocol";
import type { AgentRegistry } from "../dispatch/agent-registry.ts";
import type { ClusterBus } from "./cluster-bus.ts";

/**
 * Messages for an agent wherever it is connected: straight down its link when this replica holds it,
 * otherwise over the bus to the replica that does (cluster-wiring delivers them there). Nothing that
 * another replica may own is sent with `registry.get(agentId)?.send` directly.
 */
export class AgentOutbox {
  readonly #registry: AgentRegistry;
  readonly #bus: ClusterBus;

  constructor(registry: AgentRegistry, bus: ClusterBus) {
    this.#registry = registry;
    this.#bus = bus;
  }

  send(agentId: string, messages: ServerToAgent[]): void {
    if (this.deliverHere(agentId, messages)) return;
    this.#bus.publish({ kind: "agent:send", agentId, messages });
  }

  /** Sends down this replica's current, open link of the agent, if it has one. */
  deliverHere(agentId: string, messages: ServerToAgent[]): boolean {
    const link = this.#registry.get(agentId);
    if (!link?.open || link.superseded) return false;
    link.send(messages);
    return true;
  }
}
