import type { TLSSocket } from "node:tls";
import { GantryError } from "@gantry/protocol";
import type { FastifyRequest } from "fastify";
import { decodeJwt } from "jose";

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
