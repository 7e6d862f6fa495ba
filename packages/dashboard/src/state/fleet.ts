import type { AgentView, CapabilitySummary, MqttAgentPresence } from "@gantry/protocol";
import type { Live } from "./live.ts";
import type { Session } from "./session.ts";
import { Store } from "./store.ts";

/** Samples kept per GPU for the sparklines (one per heartbeat). */
export const HISTORY = 60;

export interface GpuSample {
  at: number;
  utilizationPercent: number | null;
  memoryUsedMb: number | null;
}

export interface FleetState {
  agents: AgentView[];
  /** agentId → GPU index → recent samples, oldest first. */
  history: Map<string, Map<number, GpuSample[]>>;
  capabilities: CapabilitySummary[];
  loaded: boolean;
  error: string | null;
}

/**
 * The fleet as the dashboard shows it: `GET /v1/agents` once, then kept current by the retained
 * presence topic (status, free slots, each heartbeat's metrics and health; an empty message when an
 * agent leaves). An agent the list does not know yet makes one fresh read of the list.
 */
export function fleetStore(session: Session, live: Live): { store: Store<FleetState>; reload(): Promise<void> } {
  const store = new Store<FleetState>({ agents: [], history: new Map(), capabilities: [], loaded: false, error: null });
  const update = (patch: Partial<FleetState>) => store.set({ ...store.value, ...patch });

  const record = (
    agentId: string,
    gpus: { index: number; utilizationPercent: number | null; memoryUsedMb: number | null }[],
  ) => {
    const history = store.value.history;
    let perAgent = history.get(agentId);
    if (!perAgent) {
      perAgent = new Map();
      history.set(agentId, perAgent);
    }
    for (const g of gpus) {
      const samples = perAgent.get(g.index) ?? [];
      samples.push({ at: Date.now(), utilizationPercent: g.utilizationPercent, memoryUsedMb: g.memoryUsedMb });
      if (samples.length > HISTORY) samples.shift();
      perAgent.set(g.index, samples);
    }
  };

  const reload = async () => {
    try {
      const agents = await session.client.agents();
      for (const a of agents) if (a.metrics?.gpus && !store.value.history.has(a.id)) record(a.id, a.metrics.gpus);
      update({ agents, loaded: true, error: null });
    } catch (err) {
      update({ loaded: true, error: (err as Error).message });
    }
  };

  const apply = (agentId: string, p: MqttAgentPresence | null) => {
    const agents = store.value.agents;
    const i = agents.findIndex((a) => a.id === agentId);
    if (i === -1) {
      if (p) void reload();
      return;
    }
    const a = agents[i]!;
    const next: AgentView = p
      ? {
          ...a,
          online: true,
          capabilities: p.capabilities,
          tier: p.tier,
          capacity: p.capacity,
          status: p.draining ? "draining" : (p.status ?? a.status),
          metrics: p.metrics ?? a.metrics,
          health: p.health ?? a.health,
          lastSeenAt: new Date().toISOString(),
        }
      : { ...a, online: false, status: null, transport: null };
    if (p?.metrics?.gpus) record(agentId, p.metrics.gpus);
    update({ agents: agents.map((x, j) => (j === i ? next : x)) });
  };

  live.onAgent(({ agentId, presence }) => apply(agentId, presence));
  live.onCapabilities((m) => update({ capabilities: m.capabilities }));
  void reload();
  if (session.can("jobs:read")) {
    session.client.capabilities().then(
      (capabilities) => {
        if (store.value.capabilities.length === 0) update({ capabilities });
      },
      () => {},
    );
  }
  return { store, reload };
}
