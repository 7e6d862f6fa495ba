import { CAPABILITY_SUMMARY_LIMITS, type CapabilitySummary, parseCapability } from "@gantry/protocol";
import { linkHere, onlineElsewhere, readFleet } from "../agents/online-agents.ts";
import type { GantryContext } from "../context.ts";
import { freeSlots } from "../dispatch/agent-link.ts";
import { getOrCreate } from "../util/get-or-create.ts";

type Ctx = Pick<GantryContext, "registry" | "store" | "replicaId" | "options">;

/**
 * Every capability with an online agent or a queued job, across the cluster: agents, free slots,
 * queued jobs and the attributes the online agents advertise (from their stored capability
 * strings), sorted by name. Agents linked here count with their live slots; agents linked to another
 * replica (the GET /v1/agents rule) with capacity minus the jobs the store says they hold, none
 * while their last heartbeat says draining or error. Queued counts come from the job counters.
 */
export async function summarizeCapabilities(ctx: Ctx): Promise<CapabilitySummary[]> {
  const byName = new Map<string, CapabilitySummary>();
  const entry = (name: string) =>
    getOrCreate(byName, name, () => ({ name, agents: 0, freeSlots: 0, queued: 0, attributes: {} }));
  const [fleet, counts] = await Promise.all([fleetFor(ctx), ctx.store.jobCounts(null)]);
  const now = Date.now();
  for (const agent of fleet.agents) {
    if (agent.revokedAt !== null) continue;
    const link = linkHere(ctx, agent.id);
    let free: number;
    if (link) free = freeSlots(link);
    else if (onlineElsewhere(ctx, agent, now)) {
      const unavailable = agent.status === "draining" || agent.status === "error";
      free = unavailable ? 0 : Math.max(0, agent.capacity - (fleet.held.get(agent.id) ?? 0));
    } else continue;
    const caps = agent.capabilities.map(safeParse).filter((c) => c !== undefined);
    // Here, the link's index is what dispatch uses (a capabilities frame re-indexes it at once).
    const names = link ? link.capabilities : new Set(caps.map((c) => c.name));
    for (const name of names) {
      const e = entry(name);
      e.agents++;
      e.freeSlots += free;
    }
    for (const cap of caps) if (names.has(cap.name)) Object.assign(entry(cap.name).attributes, cap.attributes);
  }
  for (const c of counts) if (c.status === "queued" && c.n > 0) entry(c.capability).queued += c.n;
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The cached store read, read again when it misses an agent linked here or disagrees with its
 * capabilities (it connected or changed them since), so this replica's own agents are always current.
 */
async function fleetFor(ctx: Ctx) {
  const fleet = await readFleet(ctx);
  const byId = new Map(fleet.agents.map((a) => [a.id, a]));
  for (const link of ctx.registry.all()) {
    if (!link.open || link.superseded) continue;
    const a = byId.get(link.agentId);
    const names = new Set(a?.capabilities.map((raw) => safeParse(raw)?.name));
    if (!a || names.size !== link.capabilities.size || [...link.capabilities].some((n) => !names.has(n))) {
      return readFleet(ctx, true);
    }
  }
  return fleet;
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
