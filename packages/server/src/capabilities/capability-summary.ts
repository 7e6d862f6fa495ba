import { type CapabilitySummary, parseCapability } from "@gantry/protocol";
import type { GantryContext } from "../context.ts";
import { freeSlots } from "../dispatch/agent-link.ts";
import { getOrCreate } from "../util/get-or-create.ts";

/**
 * Every capability with an online agent or a queued job: agents, free slots, queued jobs and the
 * attributes the online agents advertise (from their stored capability strings), sorted by name.
 */
export async function summarizeCapabilities(
  ctx: Pick<GantryContext, "registry" | "store">,
): Promise<CapabilitySummary[]> {
  const byName = new Map<string, CapabilitySummary>();
  const entry = (name: string) =>
    getOrCreate(byName, name, () => ({ name, agents: 0, freeSlots: 0, queued: 0, attributes: {} }));
  const online = new Set<string>();
  for (const link of ctx.registry.all()) {
    online.add(link.agentId);
    const free = freeSlots(link);
    for (const cap of link.capabilities) {
      const e = entry(cap);
      e.agents++;
      e.freeSlots += free;
    }
  }
  if (online.size > 0) {
    for (const agent of await ctx.store.listAgents()) {
      if (!online.has(agent.id)) continue;
      for (const raw of agent.capabilities) {
        const cap = safeParse(raw);
        if (cap && byName.has(cap.name)) Object.assign(entry(cap.name).attributes, cap.attributes);
      }
    }
  }
  for (const [name, n] of await ctx.store.queuedCounts()) entry(name).queued = n;
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function safeParse(raw: string) {
  try {
    return parseCapability(raw);
  } catch {
    return undefined;
  }
}
