import { type OpenAiModel, parseCapability } from "@gantry/protocol";
import { isOnline } from "../agents/online-agents.ts";
import type { GantryContext } from "../context.ts";
import { getOrCreate } from "../util/get-or-create.ts";

/** How long one replica reuses its last look at the fleet (every chat request checks its model). */
const CACHE_MS = 1000;

type Ctx = Pick<GantryContext, "registry" | "store" | "replicaId" | "options">;
const cache = new WeakMap<Ctx, { at: number; models: Promise<Map<string, OpenAiModel>> }>();

/**
 * The `llm.*` models some connected agent offers, across every replica: an agent counts when its
 * link is open here, or when the store holds its session on another replica that is still sweeping
 * (as `GET /v1/agents` decides). Keyed by model name (`tiny-a` for `llm.tiny-a`), lowercased.
 */
export function onlineModels(ctx: Ctx): Promise<Map<string, OpenAiModel>> {
  const hit = cache.get(ctx);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.models;
  const models = read(ctx);
  cache.set(ctx, { at: Date.now(), models });
  models.catch(() => cache.delete(ctx));
  return models;
}

async function read(ctx: Ctx): Promise<Map<string, OpenAiModel>> {
  const byName = new Map<string, OpenAiModel>();
  const now = Date.now();
  for (const agent of await ctx.store.listAgents()) {
    if (agent.revokedAt !== null || !isOnline(ctx, agent, now)) continue;
    // The store holds what each agent last said in its hello (a rescan says it anew).
    for (const raw of agent.capabilities) {
      const cap = safeParse(raw);
      if (!cap?.name.startsWith("llm.")) continue;
      const id = cap.name.slice(4);
      const m = getOrCreate(byName, id, () => ({
        id,
        object: "model" as const,
        created: Math.floor(agent.registeredAt / 1000),
        owned_by: "gantry",
        agents: 0,
        attributes: {},
      }));
      m.agents++;
      m.created = Math.min(m.created, Math.floor(agent.registeredAt / 1000));
      Object.assign(m.attributes, cap.attributes);
    }
  }
  return byName;
}

function safeParse(raw: string) {
  try {
    return parseCapability(raw);
  } catch {
    return undefined;
  }
}
