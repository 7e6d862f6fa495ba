import { getOrCreate } from "../util/get-or-create.ts";
import type { AgentLink } from "./agent-link.ts";

/** The in-memory index of connected agents by base capability. */
export class AgentRegistry {
  readonly #byId = new Map<string, AgentLink>();
  readonly #byCapability = new Map<string, Set<AgentLink>>();

  get(agentId: string): AgentLink | undefined {
    return this.#byId.get(agentId);
  }

  /** Adds a link, returning the one it replaces (an agent reconnecting before its old socket died). */
  add(link: AgentLink): AgentLink | undefined {
    const previous = this.#byId.get(link.agentId);
    if (previous) this.#unindex(previous);
    this.#byId.set(link.agentId, link);
    for (const cap of link.capabilities) {
      getOrCreate(this.#byCapability, cap, () => new Set()).add(link);
    }
    return previous;
  }

  /** Removes the link if it is still the current one for its agent. */
  remove(link: AgentLink): boolean {
    if (this.#byId.get(link.agentId) !== link) return false;
    this.#byId.delete(link.agentId);
    this.#unindex(link);
    return true;
  }

  linksFor(capability: string): Iterable<AgentLink> {
    return this.#byCapability.get(capability) ?? [];
  }

  capabilities(): string[] {
    return [...this.#byCapability.keys()];
  }

  all(): Iterable<AgentLink> {
    return this.#byId.values();
  }

  get size(): number {
    return this.#byId.size;
  }

  #unindex(link: AgentLink): void {
    for (const cap of link.capabilities) {
      const set = this.#byCapability.get(cap);
      set?.delete(link);
      if (set?.size === 0) this.#byCapability.delete(cap);
    }
  }
}
