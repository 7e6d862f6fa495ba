import type { AgentToServer, ServerToAgent } from "@gantry/protocol";

/** WebSocket close codes the server uses (and the poll transport mimics). */
export const CLOSE_TOKEN_INVALID = 4401;
export const CLOSE_REVOKED = 4403;

/** What a transport reports to the action loop. Both transports feed the same handlers. */
export interface ConnectionHandlers {
  /** The transport can send: the loop sends `hello` now. */
  onOpen(): void;
  /** Server messages, in order (a WS frame or a batch of HTTP replies/jobs). */
  onMessages(messages: ServerToAgent[]): void;
  /** The connection is gone; the loop decides whether and when to reconnect. */
  onClose(code: number, reason: string): void;
}

/** One live connection (one socket, or one long-poll session). Not reused after close. */
export interface Connection {
  readonly kind: "ws" | "poll";
  /** The most serialised bytes one `send` may carry (frame-limits.ts). */
  readonly maxFrameBytes: number;
  /** Sends messages as one frame (or one POST); `json` is that frame already serialised, if known. */
  send(messages: AgentToServer[], json?: string): void;
  /** Called after `welcome`: the poll transport starts asking for jobs; WS needs nothing. */
  ready(): void;
  /** Free slots changed (the poll transport asks for at most this many jobs). */
  slotsChanged(): void;
  setToken(token: string): void;
  close(): void;
}
