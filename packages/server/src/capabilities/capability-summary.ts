import { CAPABILITY_SUMMARY_LIMITS, type CapabilitySummary, parseCapability } from "@gantry/protocol";
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

/** A bounded summary: what is listed, how many there are in all, and whether anything was cut. */
export interface BoundedSummary {
  capabilities: CapabilitySummary[];
  total: number;
  truncated: boolean;
}

/**
 * Applies CAPABILITY_SUMMARY_LIMITS: the busiest `maxCapabilities` (most agents, then most queued),
 * `maxAttributes` attributes each (by name), and with `maxBytes` as many of those as fit in that
 * much JSON. The result stays sorted by name.
 */
export function boundSummary(
  all: readonly CapabilitySummary[],
  maxBytes: number = Number.POSITIVE_INFINITY,
  limits: { maxCapabilities: number; maxAttributes: number } = CAPABILITY_SUMMARY_LIMITS,
): BoundedSummary {
  let truncated = all.length > limits.maxCapabilities;
  const kept = [...all]
    .sort((a, b) => b.agents - a.agents || b.queued - a.queued || a.name.localeCompare(b.name))
    .slice(0, limits.maxCapabilities)
    .map((c) => {
      const keys = Object.keys(c.attributes);
      if (keys.length <= limits.maxAttributes) return c;
      truncated = true;
      const attributes: CapabilitySummary["attributes"] = {};
      for (const k of keys.sort().slice(0, limits.maxAttributes)) attributes[k] = c.attributes[k]!;
      return { ...c, attributes };
    });
  // Drop the least busy until the JSON fits (each entry's size is counted once, plus a comma).
  let bytes = 2 + kept.reduce((n, c) => n + JSON.stringify(c).length + 1, 0);
  while (kept.length > 0 && bytes > maxBytes) {
    bytes -= JSON.stringify(kept.pop()).length + 1;
    truncated = true;
  }
  return { capabilities: kept.sort((a, b) => a.name.localeCompare(b.name)), total: all.length, truncated };
}

function safeParse(raw: string) {
  try {
    return parseCapability(raw);
  } catch {
    return undefined;
  }
}
