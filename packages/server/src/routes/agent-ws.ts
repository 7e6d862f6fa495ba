import { AgentToServer, type ErrorCode, GantryError, type ServerToAgent } from "@gantry/protocol";
import type { FastifyPluginAsync } from "fastify";
import type { WebSocket } from "ws";
import { errorFrame, failureCode, protocolError } from "../agents/agent-replies.ts";
import { MessageInbox } from "../agents/message-inbox.ts";
import { handleInOrder } from "../agents/ordered-messages.ts";
import { WsAgentLink } from "../agents/ws-agent-link.ts";
import { bearerOf } from "../auth/principals.ts";
import type { GantryContext } from "../context.ts";

/**
 * Close codes: 4401 token missing/invalid/expired (re-authenticate), 4403 agent revoked, 4400
 * protocol, 1002 another protocol version (reconnecting cannot help), 1013 the server could not
 * take the hello now (try again later).
 */
export const CLOSE = { auth: 4401, revoked: 4403, protocol: 4400, version: 1002, tryLater: 1013 } as const;

/** The most messages one frame may carry. */
const MAX_FRAME_MESSAGES = 10_000;

function closeCodeFor(err: unknown): number {
  const code: ErrorCode | undefined = err instanceof GantryError ? err.code : undefined;
  return code === "agent_revoked" ? CLOSE.revoked : CLOSE.auth;
}

/**
 * `GET /v1/agent/ws`: the agent's push channel. The first message must be `hello`. A link's frames
 * are handled strictly one after another (nothing else runs before the welcome, and a heartbeat
 * never overtakes the job message before it).
 */
export const agentWsRoutes: FastifyPluginAsync<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.get("/v1/agent/ws", { websocket: true }, (socket: WebSocket, request) => {
    let link: WsAgentLink | undefined;
    let closed = false;
    const sendNow = (m: ServerToAgent) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(m));
    const auth = ctx.agents.enrolment.verify(bearerOf(request.headers.authorization)).catch((err: unknown) => {
      const message = err instanceof GantryError ? err.message : "authentication failed";
      socket.close(closeCodeFor(err), message.slice(0, 120));
      return undefined;
    });

    /** The first frame: its first message must be a hello; returns the open link, or nothing. */
    const open = async (first: unknown): Promise<WsAgentLink | undefined> => {
      const who = await auth;
      if (!who) return undefined;
      const hello = AgentToServer.safeParse(first);
      if (!hello.success || hello.data.type !== "hello") {
        sendNow(protocolError("the first message must be hello"));
        socket.close(CLOSE.protocol, "hello expected");
        return undefined;
      }
      const l = new WsAgentLink(who.agent.id, socket, who.expiresAt);
      try {
        await ctx.agents.sessions.hello(who.agent, l, hello.data);
      } catch (err) {
        const code = failureCode(err);
        if (code !== "agent_protocol_version") request.log.error({ err }, "agent hello failed");
        sendNow(errorFrame(code, err instanceof GantryError ? err.message : undefined));
        socket.close(code === "agent_protocol_version" ? CLOSE.version : CLOSE.tryLater, code);
        return undefined;
      }
      // The socket closed while the hello was in flight: take the link out again.
      if (closed)
        ctx.agents.sessions.disconnected(l).catch((err) => request.log.error({ err }, "agent disconnect failed"));
      return l.open && !closed ? l : undefined;
    };

    /** Handles queued messages in order; the very first must be the hello. */
    const handle = async (messages: unknown[]): Promise<void> => {
      if (closed) return;
      if (!link) {
        link = await open(messages.shift());
        if (!link) return inbox.stop();
      }
      const l = link;
      l.lastSeenAt = Date.now();
      if (Date.now() > l.tokenExpiresAt) return l.close(CLOSE.auth, "token expired");
      await handleInOrder(
        messages,
        (m) => ctx.agents.messages.handle(l.agentId, l, m),
        (replies) => {
          // expiresIn is the token's absolute expiry in Unix seconds.
          for (const r of replies) if (r.type === "token") l.tokenExpiresAt = r.expiresIn * 1000;
          l.send(replies);
        },
      );
    };
    const inbox = new MessageInbox(handle, (err) => request.log.error({ err }, "agent messages failed"));

    socket.on("message", (data: Buffer) => {
      // Alive means heard from: a link working through a long backlog is not silent.
      if (link) link.lastSeenAt = Date.now();
      let messages: unknown[];
      try {
        const parsed: unknown = JSON.parse(data.toString());
        messages = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        sendNow(protocolError("frame is not valid JSON"));
        return;
      }
      if (messages.length === 0 || messages.length > MAX_FRAME_MESSAGES) {
        sendNow(protocolError(`a frame holds 1 to ${MAX_FRAME_MESSAGES} messages`));
        return;
      }
      inbox.push(messages);
    });
    socket.on("close", () => {
      closed = true;
      inbox.stop();
      // The store may be unreachable (a database restart): log it, never crash on it.
      if (link)
        ctx.agents.sessions.disconnected(link).catch((err) => request.log.error({ err }, "agent disconnect failed"));
    });
  });
};
