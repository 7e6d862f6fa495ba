import { X509Certificate } from "node:crypto";
import type { TLSSocket, Server as TlsServer } from "node:tls";
import { GantryError } from "@gantry/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { decodeJwt } from "jose";
import type { Store } from "../store/store.ts";

/** Agent routes, except registration (an agent has no certificate before it). */
const AGENT_PATH = /^\/(agent\/auth|private\/agent\/|v1\/agent\/)/;

/**
 * With `agentMtls`, a preHandler on every agent route: the connection's client certificate must be
 * valid for the server's agent CA (checked by the TLS layer: `authorized`) and name, as its CN, the
 * agent the request speaks for: `agentId` in `/agent/auth`'s body, else the subject of its bearer
 * token (the route verifies the token itself; a forged one fails there). Client routes take no
 * client certificate. A revoked agent's certificate opens nothing: every agent route refuses it.
 */
export async function checkAgentCertificate(request: FastifyRequest): Promise<void> {
  const path = request.url.split("?")[0] ?? "";
  if (!AGENT_PATH.test(path)) return;
  const socket = request.raw.socket as TLSSocket;
  const cn = socket.authorized ? socket.getPeerCertificate()?.subject?.CN : undefined;
  const claimed =
    path === "/agent/auth" ? (request.body as { agentId?: unknown } | undefined)?.agentId : bearerSubject(request);
  if (typeof cn !== "string" || typeof claimed !== "string" || cn !== claimed) {
    throw new GantryError("agent_certificate_invalid");
  }
}

function bearerSubject(request: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
  if (!m?.[1]) return undefined;
  try {
    return decodeJwt(m[1]).sub;
  } catch {
    return undefined;
  }
}

/**
 * The certificate revocation check (`agentMtls`). An agent certificate names exactly one agent (its
 * CN, bound at enrolment; an agent id is never certified twice), so the revocation list is the
 * store's record of revoked agents, shared by every replica. At each TLS handshake that presents a
 * certificate of the agent CA the store is asked whether that agent exists and is not revoked; every
 * request on a connection whose certificate is revoked is refused (`403 agent_revoked`, on client
 * routes too) and the connection closed, so the agent is told plainly why rather than seeing its
 * connections drop. Revoking an agent marks the connections its certificate already holds open, on
 * every replica (the `agent:revoked` bus message calls `revoked`).
 */
export class AgentCertificateGuard {
  readonly #store: Store;
  readonly #caFingerprint: string;
  /** Per connection presenting an agent certificate: whether it is revoked (a pending store read at first). */
  readonly #state = new WeakMap<TLSSocket, Promise<boolean> | boolean>();
  /** Agent id → its open TLS connections on this replica. */
  readonly #open = new Map<string, Set<TLSSocket>>();

  constructor(deps: { store: Store; caCertPem: string }) {
    this.#store = deps.store;
    this.#caFingerprint = new X509Certificate(deps.caCertPem).fingerprint256;
  }

  /** Checks every connection of `server` at its handshake. */
  attach(server: TlsServer): void {
    server.on("secureConnection", (socket: TLSSocket) => this.#check(socket));
  }

  #check(socket: TLSSocket): void {
    if (!socket.authorized) return; // no certificate, or none this server trusts: agent routes refuse it
    const peer = socket.getPeerCertificate(true);
    if (peer?.issuerCertificate?.fingerprint256 !== this.#caFingerprint) return; // another CA's client
    const agentId = typeof peer.subject?.CN === "string" ? peer.subject.CN : "";
    this.#state.set(socket, this.#revokedInStore(agentId));
    const set = this.#open.get(agentId) ?? new Set();
    set.add(socket);
    this.#open.set(agentId, set);
    socket.once("close", () => {
      set.delete(socket);
      if (set.size === 0 && this.#open.get(agentId) === set) this.#open.delete(agentId);
    });
  }

  async #revokedInStore(agentId: string): Promise<boolean> {
    if (!agentId) return true;
    await this.#store.barrier();
    const agent = await this.#store.getAgent(agentId);
    return !agent || agent.revokedAt !== null;
  }

  /** An onRequest hook: refuses every request on a connection whose agent certificate is revoked. */
  readonly refuseRevoked = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const socket = request.raw.socket as TLSSocket;
    const state = this.#state.get(socket);
    if (state === undefined) return;
    let revoked: boolean;
    try {
      revoked = await state;
    } catch (err) {
      this.#state.delete(socket); // a store failure is not a verdict: the next request asks again
      if (!socket.destroyed) this.#state.set(socket, this.#revokedInStore(agentIdOf(socket)));
      throw err;
    }
    this.#state.set(socket, revoked);
    if (revoked) {
      reply.header("connection", "close");
      throw new GantryError("agent_revoked", "This certificate's agent is revoked; its certificate opens nothing.");
    }
  };

  /** The agent was revoked (here or on another replica): its open connections are refused from now on. */
  revoked(agentId: string): void {
    for (const socket of this.#open.get(agentId) ?? []) this.#state.set(socket, true);
  }
}

function agentIdOf(socket: TLSSocket): string {
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return typeof cn === "string" ? cn : "";
}
