import {
  type AgentToServer,
  type CommandBody,
  CommandRequest,
  type CommandView,
  capabilityName,
  GantryError,
  type SendCommandRequest,
} from "@gantry/protocol";
import { CompactSign } from "jose";
import { ulid } from "ulid";
import type { ServerKeys } from "../auth/server-keys.ts";
import type { ClusterBus } from "../cluster/cluster-bus.ts";
import type { AgentLink } from "../dispatch/agent-link.ts";
import type { AgentRegistry } from "../dispatch/agent-registry.ts";
import type { Dispatcher } from "../dispatch/dispatcher.ts";
import type { CommandRecord, Store } from "../store/store.ts";

const DEFAULT_TTL_SECS = 300;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface CommandServiceDeps {
  store: Store;
  keys: ServerKeys;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  maxTier: number;
  bus: ClusterBus;
}

/**
 * Signed server → agent commands: signs (Ed25519 compact JWS), delivers now or at the agent's next
 * hello, records outcomes, and applies what a completed command changes on the server side.
 */
export class CommandService {
  readonly #d: CommandServiceDeps;

  constructor(deps: CommandServiceDeps) {
    this.#d = deps;
  }

  async send(agentId: string, req: SendCommandRequest): Promise<CommandRecord> {
    const agent = await this.#d.store.getAgent(agentId);
    if (!agent) throw new GantryError("agent_not_found");
    if (agent.revokedAt !== null) throw new GantryError("agent_revoked", "The agent is revoked; it takes no commands.");
    const now = Date.now();
    const { ttlSecs, ...request } = req;
    const command = CommandRequest.parse(request);
    const body: CommandBody = {
      ...command,
      id: `cmd_${ulid()}`,
      agentId,
      issuedAt: now,
      expiresAt: now + (ttlSecs ?? DEFAULT_TTL_SECS) * 1000,
    };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(body)))
      .setProtectedHeader({ alg: "EdDSA" })
      .sign(this.#d.keys.commandPrivate);
    const found = this.#d.registry.get(agentId);
    const link = found?.open && !found.superseded ? found : undefined;
    const record: CommandRecord = {
      id: body.id,
      agentId,
      type: command.type,
      params: "params" in command ? command.params : null,
      jws,
      status: link?.open ? "sent" : "pending",
      output: null,
      error: null,
      issuedAt: body.issuedAt,
      expiresAt: body.expiresAt,
      completedAt: null,
    };
    await this.#d.store.insertCommand(record);
    if (link) link.send([{ type: "command", jws }]);
    // Its link may be on another replica: that one delivers what is pending (cluster-wiring).
    else this.#d.bus.publish({ kind: "agent:command", agentId });
    return record;
  }

  /** On hello: deliver commands queued while the agent was away; expire stale ones. */
  async deliverPending(link: AgentLink): Promise<void> {
    const now = Date.now();
    for (const c of await this.#d.store.listCommands(link.agentId, 100)) {
      if (c.status !== "pending") continue;
      if (c.expiresAt <= now) {
        await this.#d.store.settleCommand(c.id, c.agentId, "expired", null, "expired before the agent came back", now);
        continue;
      }
      await this.#d.store.settleCommand(c.id, c.agentId, "sent", null, null, now);
      link.send([{ type: "command", jws: c.jws }]);
    }
  }

  async result(agentId: string, msg: Extract<AgentToServer, { type: "command:result" }>): Promise<void> {
    const now = Date.now();
    const settled = await this.#d.store.settleCommand(
      msg.commandId,
      agentId,
      msg.status,
      msg.output ?? null,
      msg.error ?? null,
      now,
    );
    if (settled?.status !== "completed") return;
    const link = this.#d.registry.get(agentId);
    if (settled.type === "drain" && link) link.draining = true;
    if (settled.type === "resume" && link) {
      link.draining = false;
      this.#d.dispatcher.kickLink(link);
    }
    if (settled.type === "update" || settled.type === "rescan") await this.#applyProfile(agentId, settled, link);
  }

  async list(agentId: string): Promise<CommandView[]> {
    return (await this.#d.store.listCommands(agentId, 100)).map(commandView);
  }

  /** update carries the new profile in its params; rescan reports what the agent found in its output. */
  async #applyProfile(agentId: string, c: CommandRecord, link: AgentLink | undefined): Promise<void> {
    const agent = await this.#d.store.getAgent(agentId);
    if (!agent) return;
    const source = (c.type === "update" ? c.params : c.output) as {
      capabilities?: string[];
      tier?: number;
      capacity?: number;
    } | null;
    const profile = {
      capabilities: source?.capabilities ?? agent.capabilities,
      tier: Math.min(source?.tier ?? agent.tier, this.#d.maxTier),
      capacity: source?.capacity ?? agent.capacity,
    };
    await this.#d.store.updateAgentProfile(agentId, profile);
    if (!link) return;
    // The link was read before the awaits above; a newer connection may have replaced it meanwhile,
    // and re-adding the old one would put a dead link back in the index. update() re-indexes only the
    // current link.
    const caps = new Set(profile.capabilities.map(capabilityName));
    this.#d.registry.update(link, { capabilities: caps, tier: profile.tier, capacity: profile.capacity });
    const current = this.#d.registry.get(agentId);
    if (current) this.#d.dispatcher.kickLink(current);
  }
}

export function commandView(c: CommandRecord): CommandView {
  return {
    id: c.id,
    agentId: c.agentId,
    type: c.type,
    params: c.params,
    status: c.status,
    output: c.output,
    error: c.error,
    issuedAt: iso(c.issuedAt)!,
    expiresAt: iso(c.expiresAt)!,
    completedAt: iso(c.completedAt),
  };
}
