import { randomUUID } from "node:crypto";
import {
  type AuthAgentResponse,
  GantryError,
  type RegisterAgentRequest,
  type RegisterAgentResponse,
} from "@gantry/protocol";
import { generateSecret, hashSecret, sameHash } from "../auth/secrets.ts";
import type { ServerKeys } from "../auth/server-keys.ts";
import { AGENT_AUDIENCE, type Tokens } from "../auth/tokens.ts";
import type { ResolvedServerOptions } from "../server-options.ts";
import type { AgentRecord, Store } from "../store/store.ts";
import type { AgentCa } from "./agent-ca.ts";

export interface AgentEnrolmentDeps {
  store: Store;
  tokens: Tokens;
  keys: ServerKeys;
  options: ResolvedServerOptions;
  /** With `--agent-mtls`: signs each agent's CSR at enrolment. */
  agentCa?: AgentCa | undefined;
}

/** Agent identity: registration with an enrolment key, the key-for-JWT trade, and token checks. */
export class AgentEnrolment {
  readonly #d: AgentEnrolmentDeps;

  constructor(deps: AgentEnrolmentDeps) {
    this.#d = deps;
  }

  async register(req: RegisterAgentRequest & { tier: number; capacity: number }): Promise<RegisterAgentResponse> {
    // One conditional statement spends a use: revoked, expired and used-up keys enrol nobody, even
    // when many agents enrol at once on several replicas.
    const agentId = randomUUID();
    // A bad CSR is refused before the enrolment key's use is spent.
    const certificate = req.csr && this.#d.agentCa ? await this.#d.agentCa.sign(req.csr, agentId) : undefined;
    const enrolment = await this.#d.store.useEnrolmentKey(hashSecret(req.apiKey), Date.now());
    if (!enrolment) throw new GantryError("agent_enrolment_invalid");
    const key = generateSecret("agent");
    const tier = Math.min(req.tier, this.#d.options.maxTier);
    const agent: AgentRecord = {
      id: agentId,
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
      ...(certificate && this.#d.agentCa ? { certificate, caCertificate: this.#d.agentCa.certPem } : {}),
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
}
