import {
  CAPABILITY_SUMMARY_LIMITS,
  MQTT_PAYLOAD_VERSION,
  type MqttAgentPresence,
  type MqttCapabilities,
  mqttTopics,
} from "@gantry/protocol";
import { aliveWithinMs } from "../agents/online-agents.ts";
import { boundSummary, summarizeCapabilities } from "../capabilities/capability-summary.ts";
import type { GantryContext } from "../context.ts";
import { freeSlots } from "../dispatch/agent-link.ts";
import type { MqttSink } from "./mqtt-sink.ts";

/**
 * Keeps `gantry/agents/{id}` (retained presence, cleared with an empty retained message when the
 * agent leaves) and `gantry/capabilities` (retained summary) in step with the agent registry. It
 * compares the registry with what it last published every `intervalMs` and publishes only changes,
 * so agent sessions need no hook and a burst of connects costs one summary. The summary covers the
 * whole cluster (summarizeCapabilities); on a broker the replicas share (`shared`), only the live
 * replica with the lowest id publishes it, so it is published once per change, not once per replica.
 */
export function publishPresence(
  ctx: Pick<GantryContext, "registry" | "store" | "replicaId" | "options">,
  sink: MqttSink,
  opts: { intervalMs: number; shared: boolean; onError: (err: unknown) => void },
): { stop(): Promise<void> } {
  const published = new Map<string, string>();
  let summary = "";
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    const seen = new Set<string>();
    for (const link of ctx.registry.all()) {
      seen.add(link.agentId);
      const m: MqttAgentPresence = {
        v: MQTT_PAYLOAD_VERSION,
        agentId: link.agentId,
        online: true,
        capabilities: [...link.capabilities].sort(),
        tier: link.tier,
        capacity: link.capacity,
        freeSlots: freeSlots(link),
        draining: link.draining,
        // Each heartbeat's figures change the payload, so presence doubles as the live metrics feed.
        ...(link.heartbeat && {
          status: link.heartbeat.status,
          ...(link.heartbeat.metrics && { metrics: link.heartbeat.metrics }),
          ...(link.heartbeat.health && { health: link.heartbeat.health }),
        }),
      };
      const payload = JSON.stringify(m);
      if (published.get(link.agentId) === payload) continue;
      published.set(link.agentId, payload);
      sink.publish(mqttTopics.agent(link.agentId), payload, { qos: 1, retain: true });
    }
    for (const id of [...published.keys()]) {
      if (seen.has(id)) continue;
      published.delete(id);
      sink.publish(mqttTopics.agent(id), "", { qos: 1, retain: true });
    }
    if (opts.shared && !(await publishesSummary(ctx))) {
      summary = ""; // so that on taking over it publishes at once
      return;
    }
    // Bounded so the retained message stays well under the broker's packet limit.
    const bounded = boundSummary(await summarizeCapabilities(ctx), CAPABILITY_SUMMARY_LIMITS.maxMqttBytes);
    const next = JSON.stringify(bounded);
    if (next === summary) return;
    summary = next;
    const m: MqttCapabilities = { v: MQTT_PAYLOAD_VERSION, at: new Date().toISOString(), ...bounded };
    sink.publish(mqttTopics.capabilities, JSON.stringify(m), { qos: 1, retain: true });
  };
  const timer = setInterval(() => {
    running = running.then(tick).catch(opts.onError);
  }, opts.intervalMs);
  running = tick().catch(opts.onError);
  return {
    /** Stops, and clears every retained presence this server published (the server is going away). */
    stop: async () => {
      clearInterval(timer);
      await running;
      for (const id of published.keys()) sink.publish(mqttTopics.agent(id), "", { qos: 1, retain: true });
      published.clear();
    },
  };
}

/** Whether this replica is the live one with the lowest id (itself counted live even before its first sweep). */
async function publishesSummary(ctx: Pick<GantryContext, "store" | "replicaId" | "options">): Promise<boolean> {
  const live = await ctx.store.liveReplicas(Date.now() - aliveWithinMs(ctx.options));
  return live.every((id) => id === ctx.replicaId || ctx.replicaId < id);
}
