import { randomUUID } from "node:crypto";
import {
  type AgentToServer,
  type AuthAgentResponse,
  capabilityName,
  ERROR_CODES,
  GantryError,
  type HeldJob,
  type RegisterAgentRequest,
  type RegisterAgentResponse,
  type ServerToAgent,
} from "@gantry/protocol";
import { generateSecret, hashSecret, sameHash } from "../auth/secrets.ts";
import type { ServerKeys } from "../auth/server-keys.ts";
import { AGENT_AUDIENCE, type Tokens } from "../auth/tokens.ts";
import type { AgentLink } from "../dispatch/agent-link.ts";
import type { AgentRegistry } from "../dispatch/agent-registry.ts";
import type { Dispatcher } from "../dispatch/dispatcher.ts";
import type { JobLifecycle } from "../dispatch/job-lifecycle.ts";
import type { ResolvedServerOptions } from "../server-options.ts";
import type { AgentRecord, FenceOutcome, JobRecord, Store } from "../store/store.ts";
import type { CommandService } from "./command-service.ts";

type RefMessage = Extract<AgentToServer, { ref: number }>;

const HEARTBEAT_PERSIST_MS = 30_000;

export interface AgentServiceDeps {
  store: Store;
  tokens: Tokens;
  keys: ServerKeys;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  lifecycle: JobLifecycle;
  options: ResolvedServerOptions;
  commands: CommandService;
}

/**
 * Agents' side of the server, whatever the transport: enrolment, authentication, the hello that
 * reconciles held jobs after a reconnect, heartbeats, and job messages turned into ack/nack replies.
 */
export class AgentService {
  readonly #d: AgentServiceDeps;

  constructor(deps: AgentServiceDeps) {
    this.#d = deps;
  }

  async register(req: RegisterAgentRequest & { tier: number; capacity: number }): Promise<RegisterAgentResponse> {
    const enrolment = await this.#d.store.findApiKeyByHash(hashSecret(req.apiKey));
    if (enrolment?.kind !== "enrolment" || enrolment.revokedAt !== null) {
      throw new GantryError("agent_enrolment_invalid");
    }
    const key = generateSecret("agent");
    const tier = Math.min(req.tier, this.#d.options.maxTier);
    const agent: AgentRecord = {
      id: randomUUID(),
      name: req.name ?? null,
      displayName: req.displayName ?? null,
      keyHash: hashSecret(key),
      enrolmentKeyId: enrolment.id,
      capabilities: req.capabilities ?? [],
      tier,
      capacity: req.capacity,
      systemInfo: (req.systemInfo ?? {}) as Record<string, unknown>,
      status: null,
      metrics: null,
      health: null,
      registeredAt: Date.now(),
      lastSeenAt: null,
      revokedAt: null,
    };
    await this.#d.store.insertAgent(agent);
    return {
      agentId: agent.id,
      key,
      message: "Registered",
      tier,
      heartbeatIntervalSecs: this.#d.options.heartbeatIntervalSecs,
      commandKey: this.#d.keys.commandPublicRaw,
    };
  }

  async authenticate(agentId: string, key: string): Promise<AuthAgentResponse> {
    const agent = await this.#d.store.getAgent(agentId);
    if (!agent || !sameHash(agent.keyHash, hashSecret(key))) throw new GantryError("auth_invalid");
    if (agent.revokedAt !== null) throw new GantryError("agent_revoked");
    // expiresIn is the absolute expiry in Unix seconds, as upstream OffloadMQ answers.
    const expiresIn = this.#d.tokens.expiry();
    return { token: await this.#d.tokens.signUntil(agent.id, AGENT_AUDIENCE, ["agent"], expiresIn), expiresIn };
  }

  /** Verifies an agent JWT; returns the agent (not revoked) and the token's expiry in ms. */
  async verify(token: string | undefined): Promise<{ agent: AgentRecord; expiresAt: number }> {
    if (!token) throw new GantryError("auth_required");
    const claims = await this.#d.tokens.verify(token, AGENT_AUDIENCE);
    if (!claims) throw new GantryError("auth_invalid");
    const agent = await this.#d.store.getAgent(claims.sub);
    if (!agent) throw new GantryError("auth_invalid");
    if (agent.revokedAt !== null) throw new GantryError("agent_revoked");
    return { agent, expiresAt: claims.exp * 1000 };
  }

  /**
   * First message on a new link: apply profile changes, keep the jobs the agent still holds, requeue
   * the rest, put the link in the dispatch index. Returns the welcome.
   */
  async hello(
    agent: AgentRecord,
    link: AgentLink,
    msg: Extract<AgentToServer, { type: "hello" }>,
  ): Promise<ServerToAgent> {
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

    const held = await this.#d.store.heldJobs(agent.id);
    const claimed = new Map(msg.running.map((r) => [r.jobId, r.epoch]));
    const keep = held.filter((j) => claimed.get(j.id) === j.epoch);
    const gone = held.filter((j) => claimed.get(j.id) !== j.epoch);
    const drop: HeldJob[] = msg.running.filter((r) => !keep.some((j) => j.id === r.jobId));
    await this.#d.lifecycle.releaseUnstarted(agent.id, gone, "agent reconnected without the job");
    for (const j of gone.filter((g) => g.status === "running")) {
      await this.#d.lifecycle.lost(agent.id, j, "agent reconnected without the job");
    }
    const now = Date.now();
    await this.#d.store.renewLeases(agent.id, now + this.#d.options.leaseSecs * 1000);
    await this.#d.store.updateAgentState(agent.id, { lastSeenAt: now });
    for (const j of keep) link.jobs.add(j.id);
    const replaced = this.#d.registry.add(link);
    if (replaced && replaced !== link) replaced.close(4000, "replaced by a newer connection");
    this.#d.dispatcher.kickLink(link);
    await this.#d.commands.deliverPending(link);
    return {
      type: "welcome",
      protocolVersion: 1,
      agentId: agent.id,
      heartbeatIntervalSecs: this.#d.options.heartbeatIntervalSecs,
      leaseSecs: this.#d.options.leaseSecs,
      drop,
    };
  }

  /** The link is gone (socket closed, poller silent): un-started jobs go back at once. */
  async disconnected(link: AgentLink): Promise<void> {
    link.open = false;
    if (!this.#d.registry.remove(link)) return;
    const held = await this.#d.store.heldJobs(link.agentId);
    await this.#d.lifecycle.releaseUnstarted(link.agentId, held, "agent disconnected before starting the job");
  }

  /** Jobs assigned to the agent a while ago (longer than a push takes) that its heartbeat does not list. */
  async #strayAssignments(agentId: string, running: HeldJob[], now: number): Promise<JobRecord[]> {
    const graceMs = Math.max(2 * this.#d.options.heartbeatIntervalSecs * 1000, 1000);
    const listed = new Set(running.map((r) => `${r.jobId}@${r.epoch}`));
    return (await this.#d.store.heldJobs(agentId)).filter(
      (j) => j.status === "assigned" && now - j.updatedAt > graceMs && !listed.has(`${j.id}@${j.epoch}`),
    );
  }

  /** Handles one post-hello message; returns the replies to send (after the commit). */
  async handle(agentId: string, link: AgentLink | undefined, msg: AgentToServer): Promise<ServerToAgent[]> {
    const l = this.#d.lifecycle;
    switch (msg.type) {
      case "hello":
        return [protocolError("hello is only valid as the first message")];
      case "heartbeat": {
        const now = Date.now();
        // An agent shutting down reports draining; only a resume command or a new connection undoes it.
        if (link && msg.status === "draining") link.draining = true;
        const state = { status: msg.status, metrics: msg.metrics ?? null, health: msg.health ?? null, lastSeenAt: now };
        // The latest heartbeat lives on the link (GET /v1/agents reads it there); the store gets it when
        // the status changes and at most every HEARTBEAT_PERSIST_MS, since an fsync'd write per beat of
        // 10k idle agents cost 14-18% of a core in bench/.
        const previous = link?.heartbeat;
        if (link) link.heartbeat = state;
        const persist =
          !link ||
          !previous ||
          previous.status !== state.status ||
          now - (link.persistedAt ?? 0) >= HEARTBEAT_PERSIST_MS;
        if (link && persist) link.persistedAt = now;
        await Promise.all([
          this.#d.store.renewLeases(agentId, now + this.#d.options.leaseSecs * 1000),
          persist ? this.#d.store.updateAgentState(agentId, state) : undefined,
        ]);
        // Leases are renewed per agent, so a push that never arrived (a long-poll answered to a client
        // that had gone) would stay assigned forever: the heartbeat says what the agent really holds.
        if (link && link.jobs.size > 0) {
          const stray = await this.#strayAssignments(agentId, msg.running, now);
          if (stray.length > 0) await l.releaseUnstarted(agentId, stray, "the agent never received the job");
        }
        return [];
      }
      case "job:started":
        return reply(msg, await l.started(agentId, msg.jobId, msg.epoch));
      case "job:progress":
        return reply(msg, await l.progress(agentId, msg.jobId, msg.epoch, msg.progress));
      case "job:log":
        return reply(msg, await l.log(agentId, msg.jobId, msg.epoch, msg.lines));
      case "job:completed":
        return reply(msg, await l.completed(agentId, msg.jobId, msg.epoch, msg.output, msg.outputFiles ?? []));
      case "job:failed":
        return reply(msg, await l.failed(agentId, msg.jobId, msg.epoch, msg.error));
      case "job:cancelled":
        return reply(msg, await l.cancelled(agentId, msg.jobId, msg.epoch));
      case "job:rejected":
        return reply(msg, await l.rejected(agentId, msg.jobId, msg.epoch, msg.reason));
      case "token:refresh": {
        const expiresIn = this.#d.tokens.expiry();
        const token = await this.#d.tokens.signUntil(agentId, AGENT_AUDIENCE, ["agent"], expiresIn);
        return [
          { type: "token", token, expiresIn },
          { type: "ack", ref: msg.ref },
        ];
      }
      case "command:result": {
        await this.#d.commands.result(agentId, msg);
        return [{ type: "ack", ref: msg.ref }];
      }
      case "deregister": {
        if (link) await this.disconnected(link);
        await this.#d.store.updateAgentState(agentId, { status: null, lastSeenAt: Date.now() });
        return [{ type: "ack", ref: msg.ref }];
      }
    }
  }
}

function reply(msg: RefMessage, outcome: FenceOutcome): ServerToAgent[] {
  switch (outcome.kind) {
    case "ok":
      return [{ type: "ack", ref: msg.ref }];
    case "duplicate":
      return [{ type: "ack", ref: msg.ref, duplicate: true }];
    case "stale":
      return [nack(msg.ref, "agent_lease_stale")];
    case "missing":
      return [nack(msg.ref, "agent_job_unknown")];
  }
}

export function nack(
  ref: number,
  code: "agent_lease_stale" | "agent_job_unknown" | "agent_protocol_error",
  message?: string,
) {
  const spec = ERROR_CODES[code];
  return { type: "nack", ref, status: spec.status, error: { code, message: message ?? spec.message } } as const;
}

export function protocolError(message: string): ServerToAgent {
  return { type: "error", error: { code: "agent_protocol_error", message } };
}
