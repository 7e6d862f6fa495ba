import {
  type AgentToServer,
  AgentToServerFrame,
  type ErrorCode,
  GantryError,
  type ServerToAgent,
} from "@gantry/protocol";
import type { FastifyPluginAsync } from "fastify";
import type { WebSocket } from "ws";
import { nack, protocolError } from "../agents/agent-service.ts";
import { WsAgentLink } from "../agents/ws-agent-link.ts";
import { bearerOf } from "../auth/principals.ts";
import type { GantryContext } from "../context.ts";
import type { AgentRecord } from "../store/store.ts";

/** Close codes: 4401 token missing/invalid/expired (re-authenticate), 4403 agent revoked, 4400 protocol. */
export const CLOSE = { auth: 4401, revoked: 4403, protocol: 4400 } as const;

function closeCodeFor(err: unknown): number {
  const code: ErrorCode | undefined = err instanceof GantryError ? err.code : undefined;
  return code === "agent_revoked" ? CLOSE.revoked : CLOSE.auth;
}

/** `GET /v1/agent/ws`: the agent's push channel. The first message must be `hello`. */
export const agentWsRoutes: FastifyPluginAsync<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.get("/v1/agent/ws", { websocket: true }, (socket: WebSocket, request) => {
    let agent: AgentRecord | undefined;
    let link: WsAgentLink | undefined;
    let queue: Buffer[] | null = [];
    const sendNow = (m: ServerToAgent) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(m));

    const onFrame = async (data: Buffer) => {
      let messages: AgentToServer[];
      try {
        const parsed = AgentToServerFrame.parse(JSON.parse(data.toString()));
        messages = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        return sendNow(protocolError("frame is not valid JSON or does not match the agent protocol"));
      }
      if (!link) {
        const first = messages.shift()!;
        if (first.type !== "hello") {
          sendNow(protocolError("the first message must be hello"));
          return socket.close(CLOSE.protocol, "hello expected");
        }
        const l = new WsAgentLink(agent!.id, socket, linkExpiry);
        link = l;
        l.send([await ctx.agents.hello(agent!, l, first)]);
      }
      const l = link;
      l.lastSeenAt = Date.now();
      if (Date.now() > l.tokenExpiresAt) return l.close(CLOSE.auth, "token expired");
      if (messages.length === 0) return;
      const results = await Promise.all(
        messages.map((m) =>
          ctx.agents.handle(l.agentId, l, m).catch((err: unknown) => {
            request.log.error({ err }, "agent message failed");
            return "ref" in m ? [nack(m.ref, "agent_protocol_error", "the server failed to apply the message")] : [];
          }),
        ),
      );
      const replies = results.flat();
      for (const r of replies) if (r.type === "token") l.tokenExpiresAt = r.expiresIn * 1000;
      l.send(replies);
    };

    // Frames arriving before authentication finishes wait, in order.
    socket.on("message", (data: Buffer) => {
      if (queue) queue.push(data);
      else void onFrame(data);
    });
    socket.on("close", () => {
      if (link) void ctx.agents.disconnected(link);
    });

    let linkExpiry = 0;
    ctx.agents
      .verify(bearerOf(request.headers.authorization))
      .then(async ({ agent: a, expiresAt }) => {
        agent = a;
        linkExpiry = expiresAt;
        const pending = queue ?? [];
        queue = null;
        for (const data of pending) await onFrame(data);
      })
      .catch((err: unknown) => {
        const message = err instanceof GantryError ? err.message : "authentication failed";
        socket.close(closeCodeFor(err), message.slice(0, 120));
      });
  });
};
