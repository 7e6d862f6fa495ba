import { getOrCreate } from "../util/get-or-create.ts";
import type { AgentLink } from "./agent-link.ts";

/** The in-memory index of connected agents by base capability. */
export class AgentRegistry {
  readonly #byId = new Map<string, AgentLink>();
  readonly #byCapability = new Map<string, Set<AgentLink>>();

  get(agentId: string): AgentLink | undefined {
    return this.#byId.get(agentId);
  }

  /**
   * Adds a link unless a newer link of the same agent is already there (a slow hello on an old
   * socket finishing after a fast one on a new socket). Returns the link it replaced, or "newer" when
   * it refused; the caller closes whichever link lost.
   */
  add(link: AgentLink): AgentLink | undefined | "newer" {
    const previous = this.#byId.get(link.agentId);
    if (previous && previous !== link && previous.openedAt > link.openedAt) return "newer";
    if (previous) this.#unindex(previous);
    this.#byId.set(link.agentId, link);
    this.#index(link);
    return previous === link ? undefined : previous;
  }

  /**
   * Changes a link's profile (capabilities, tier, capacity) and re-indexes it if it is the current
   * link of its agent; an older link is changed but stays out of the index.
   */
  update(link: AgentLink, profile: { capabilities: Set<string>; tier: number; capacity: number }): void {
    const current = this.#byId.get(link.agentId) === link;
    if (current) this.#unindex(link);
    link.capabilities = profile.capabilities;
    link.tier = profile.tier;
    link.capacity = profile.capacity;
    if (current) this.#index(link);
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

  #index(link: AgentLink): void {
    for (const cap of link.capabilities) {
      getOrCreate(this.#byCapability, cap, () => new Set()).add(link);
    }
  }

  #unindex(link: AgentLink): void {
    for (const cap of link.capabilities) {
      const set = this.#byCapability.get(cap);
      set?.delete(link);
      if (set?.size === 0) this.#byCapability.delete(cap);
    }
  }
}
