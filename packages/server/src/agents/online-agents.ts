import type { GantryContext } from "../context.ts";
import type { AgentLink } from "../dispatch/agent-link.ts";
import type { AgentRecord } from "../store/store.ts";

type Ctx = Pick<GantryContext, "registry" | "store" | "replicaId" | "options">;

/** How long one replica reuses its last look at the fleet in the store (read per request and per presence tick). */
const CACHE_MS = 1000;

/** A replica that has not swept for this long is down, and so are the links it held. */
export function aliveWithinMs(options: Ctx["options"]): number {
  return Math.max(5 * options.sweepIntervalMs, 2000);
}

/** This agent's link on this replica, when it is open and current. */
export function linkHere(ctx: Pick<Ctx, "registry">, agentId: string): AgentLink | undefined {
  const here = ctx.registry.get(agentId);
  return here?.open && !here.superseded ? here : undefined;
}

/** Its link is on another replica, by the store: the session is there and that replica is still sweeping. */
export function onlineElsewhere(ctx: Ctx, a: AgentRecord, now = Date.now()): boolean {
  const s = a.session;
  return (
    !linkHere(ctx, a.id) &&
    s != null &&
    s.replicaId !== ctx.replicaId &&
    now - (s.replicaSeenAt ?? 0) < aliveWithinMs(ctx.options)
  );
}

/**
 * The one rule for "online" across replicas (GET /v1/agents, GET /v1/models, GET /v1/capabilities):
 * its link is open here, or the store holds its session on another replica that is still sweeping.
 */
export function isOnline(ctx: Ctx, a: AgentRecord, now = Date.now()): boolean {
  return linkHere(ctx, a.id) !== undefined || onlineElsewhere(ctx, a, now);
}

/** The fleet as the store holds it: every agent (with its session) and how many jobs each holds. */
export interface FleetRead {
  agents: AgentRecord[];
  held: Map<string, number>;
}

const cache = new WeakMap<Ctx, { at: number; read: Promise<FleetRead> }>();

/**
 * The store's fleet, read at most once per CACHE_MS per replica (`fresh` reads again): agents on
 * other replicas are only known from it, as their heartbeats persist them.
 */
export function readFleet(ctx: Ctx, fresh = false): Promise<FleetRead> {
  const hit = cache.get(ctx);
  if (!fresh && hit && Date.now() - hit.at < CACHE_MS) return hit.read;
  const read = (async () => {
    const [agents, held] = await Promise.all([ctx.store.listAgents(), ctx.store.heldCounts()]);
    return { agents, held };
  })();
  cache.set(ctx, { at: Date.now(), read });
  read.catch(() => {
    if (cache.get(ctx)?.read === read) cache.delete(ctx);
  });
  return read;
}
