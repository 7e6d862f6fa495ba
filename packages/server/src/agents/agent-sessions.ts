import {
  AGENT_PROTOCOL_VERSION,
  type AgentToServer,
  capabilityName,
  GantryError,
  type HeldJob,
  type ServerToAgent,
} from "@gantry/protocol";
import type { ClusterBus } from "../cluster/cluster-bus.ts";
import type { AgentLink } from "../dispatch/agent-link.ts";
import type { AgentRegistry } from "../dispatch/agent-registry.ts";
import type { Dispatcher } from "../dispatch/dispatcher.ts";
import type { JobLifecycle } from "../dispatch/job-lifecycle.ts";
import type { ResolvedServerOptions } from "../server-options.ts";
import type { AgentRecord, Store } from "../store/store.ts";
import type { CommandService } from "./command-service.ts";

export interface AgentSessionsDeps {
  store: Store;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  lifecycle: JobLifecycle;
  commands: CommandService;
  options: ResolvedServerOptions;
  bus: ClusterBus;
  /** This server among the replicas (Store.openAgentSession records where the link is). */
  replicaId: string;
}

type Hello = Extract<AgentToServer, { type: "hello" }>;

/**
 * A link's life in the dispatch index: the hello that opens it (profile, held-job reconciliation,
 * pending cancels and commands) and the end that takes it out again.
 */
export class AgentSessions {
  readonly #d: AgentSessionsDeps;

  constructor(deps: AgentSessionsDeps) {
    this.#d = deps;
  }

  /**
   * First message on a new link: check the protocol version, apply profile changes, keep the jobs
   * the agent still holds, requeue the rest, put the link in the dispatch index. Sends the welcome,
   * then a `job:cancel` for every kept job whose cancel was requested while the agent was away, then
   * pending commands. Throws agent_protocol_version for another protocol version.
   */
  async hello(agent: AgentRecord, link: AgentLink, msg: Hello): Promise<void> {
    if (msg.protocolVersion !== AGENT_PROTOCOL_VERSION) {
      throw new GantryError(
        "agent_protocol_version",
        `This server speaks agent protocol ${AGENT_PROTOCOL_VERSION}; the agent sent ${msg.protocolVersion}. Upgrade the agent or the server.`,
        { supported: [AGENT_PROTOCOL_VERSION] },
      );
    }
    await this.#applyProfile(agent, link, msg);

    const held = await this.#d.store.heldJobs(agent.id);
    const claimed = new Map(msg.running.map((r) => [r.jobId, r.epoch]));
    const keep = held.filter((j) => claimed.get(j.id) === j.epoch);
    const gone = held.filter((j) => claimed.get(j.id) !== j.epoch);
    await this.#d.lifecycle.releaseUnstarted(agent.id, gone, "agent reconnected without the job");
    for (const j of gone.filter((g) => g.status === "running")) {
      await this.#d.lifecycle.lost(agent.id, j, "agent reconnected without the job");
    }
    const now = Date.now();
    const kept: HeldJob[] = keep.map((j) => ({ jobId: j.id, epoch: j.epoch }));
    const renewal = await this.#d.store.renewLeases(agent.id, kept, now, now + this.#d.options.leaseSecs * 1000, 0);
    await this.#d.store.updateAgentState(agent.id, { lastSeenAt: now });
    const lapsed = new Set(renewal.drop.map((h) => h.jobId));
    const drop: HeldJob[] = msg.running.filter((r) => !keep.some((j) => j.id === r.jobId) || lapsed.has(r.jobId));
    const live = keep.filter((j) => !lapsed.has(j.id));
    for (const j of live) link.jobs.add(j.id);

    // The session epoch in the store orders this agent's links across replicas: a link on another
    // replica with a lower epoch retires when the bus tells it (cluster-wiring).
    link.session = (await this.#d.store.openAgentSession(agent.id, this.#d.replicaId, link.transport)) ?? 0;
    const replaced = this.#d.registry.add(link);
    if (replaced === "newer") {
      // A newer connection of this agent finished its hello first; this one lost.
      link.close(4000, "replaced by a newer connection");
      return;
    }
    if (replaced) replaced.close(4000, "replaced by a newer connection");
    this.#d.bus.publish({
      kind: "agent:session",
      agentId: agent.id,
      session: link.session,
      replicaId: this.#d.replicaId,
    });
    const welcome: ServerToAgent = {
      type: "welcome",
      protocolVersion: AGENT_PROTOCOL_VERSION,
      agentId: agent.id,
      heartbeatIntervalSecs: this.#d.options.heartbeatIntervalSecs,
      leaseSecs: this.#d.options.leaseSecs,
      drop,
    };
    // A cancel sent while the agent was away (or to its dying socket) was lost with that socket.
    const cancels: ServerToAgent[] = live
      .filter((j) => j.cancelRequestedAt !== null)
      .map((j) => ({ type: "job:cancel", jobId: j.id, epoch: j.epoch }));
    link.send([welcome, ...cancels]);
    await this.#d.commands.deliverPending(link);
    this.#d.dispatcher.kickLink(link);
  }

  /** The link is gone (socket closed, poller silent): un-started jobs go back at once. */
  async disconnected(link: AgentLink): Promise<void> {
    link.open = false;
    if (!this.#d.registry.remove(link)) return;
    // Issued now, awaited last: the SQLite write joins this turn's batch before anything can close it.
    const closing = this.#d.store.closeAgentSession(link.agentId, link.session);
    // Superseded: the agent is on another replica now, which reconciled its jobs at hello.
    if (!link.superseded) {
      const held = await this.#d.store.heldJobs(link.agentId);
      await this.#d.lifecycle.releaseUnstarted(link.agentId, held, "agent disconnected before starting the job");
    }
    await closing;
  }

  /**
   * The agent's `capabilities` frame: what it offers changed while connected (a model quarantined
   * after a failed load). Stored, and the link re-indexed at once, so no more of those jobs are
   * pushed to it; capabilities it gained are kicked. Tier and capacity stay as they are.
   */
  async capabilitiesChanged(agentId: string, link: AgentLink | undefined, capabilities: string[]): Promise<void> {
    const agent = await this.#d.store.getAgent(agentId);
    if (!agent) return;
    if (capabilities.join("\n") !== agent.capabilities.join("\n")) {
      await this.#d.store.updateAgentProfile(agentId, { capabilities, capacity: agent.capacity, tier: agent.tier });
    }
    if (!link) return;
    // update() re-indexes only the current link of the agent; an older one is changed but stays out.
    this.#d.registry.update(link, {
      capabilities: new Set(capabilities.map(capabilityName)),
      tier: link.tier,
      capacity: link.capacity,
    });
    this.#d.dispatcher.kickLink(link);
  }

  async #applyProfile(agent: AgentRecord, link: AgentLink, msg: Hello): Promise<void> {
    const profile = {
      capabilities: msg.capabilities ?? agent.capabilities,
      capacity: msg.capacity ?? agent.capacity,
      tier: Math.min(msg.tier ?? agent.tier, this.#d.options.maxTier),
    };
    const changed =
      profile.capacity !== agent.capacity ||
      profile.tier !== agent.tier ||
      profile.capabilities.join("\n") !== agent.capabilities.join("\n");
    if (changed) {
      // Written only when it changed: every agent sends its profile in every hello.
      await this.#d.store.updateAgentProfile(agent.id, profile);
      Object.assign(agent, profile);
    }
    link.tier = agent.tier;
    link.capacity = agent.capacity;
    link.capabilities = new Set(agent.capabilities.map(capabilityName));
  }
}
