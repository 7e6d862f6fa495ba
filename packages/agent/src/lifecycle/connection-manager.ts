import { type AgentToServer, type BackoffPolicy, backoffDelay, type ServerToAgent } from "@gantry/protocol";
import type { Logger } from "pino";
import {
  CLOSE_REVOKED,
  CLOSE_TOKEN_INVALID,
  type Connection,
  type ConnectionHandlers,
} from "../connection/connection.ts";
import { CLOSE_TOO_LARGE, MAX_FRAME_BYTES, MIN_FRAME_BYTES } from "../connection/frame-limits.ts";
import type { HttpClient } from "../connection/http-client.ts";
import { HttpError } from "../connection/http-client.ts";
import { openPollConnection } from "../connection/poll-connection.ts";
import type { ServerList } from "../connection/server-list.ts";
import { explainNetError, type TlsConnectOptions } from "../connection/tls-options.ts";
import { openWsConnection } from "../connection/ws-connection.ts";
import { EXIT, REENROL_HINT } from "./exit-codes.ts";
import type { TokenKeeper } from "./token-keeper.ts";

/**
 * One connection attempt's state.
 *
 * - idle       → connecting (start)
 * - connecting → handshake (socket open / poll session started; hello sent), backoff (failed), closed
 * - handshake  → ready (welcome received), backoff (closed before welcome), closed
 * - ready      → backoff (closed by network/server), connecting (closed 4401: re-auth at once), closed
 * - backoff    → connecting (timer)
 * - closed is final (agent stopped, or revoked)
 */
export type ConnectionState = "idle" | "connecting" | "handshake" | "ready" | "backoff" | "closed";

export interface ConnectionManagerOptions {
  /** Replicas: a lost link or failed connect moves to the next URL before the backoff wait. */
  server: ServerList;
  transport: "ws" | "poll";
  pollWaitSecs: number;
  backoff: BackoffPolicy;
  http: HttpClient;
  tls: TlsConnectOptions;
  token: TokenKeeper;
  agentId: string;
  logger: Logger;
  /** Free job slots now (the long-poll asks for at most this many). */
  freeSlots(): number;
  /** The hello for a new link (what the agent holds and offers now). */
  hello(): AgentToServer;
  /** Server messages of the current link, in order. */
  onMessages(messages: ServerToAgent[]): void;
  /** The current link is gone (unsent messages are lost; journaled ones stay in the outbox). */
  onDown(): void;
  /** The agent cannot go on (revoked identity). */
  onFatal(code: number, message: string): void;
}

/**
 * The connection state machine: authenticate, open a link (WebSocket or long-poll), say hello,
 * and after a close reconnect with the shared backoff. It carries messages; it never decides
 * what they mean (the control loop does) and never runs job code.
 */
export class ConnectionManager {
  state: ConnectionState = "idle";
  readonly #o: ConnectionManagerOptions;
  #conn: Connection | null = null;
  #attempt = 0;
  #backoffTimer: NodeJS.Timeout | undefined;
  /** Frame limit for new links: the transport's, halved each time the server closed one for a frame too large. */
  #maxFrameBytes: number;

  constructor(options: ConnectionManagerOptions) {
    this.#o = options;
    this.#maxFrameBytes = MAX_FRAME_BYTES[options.transport];
  }

  /** The link when `ready` (job messages go only then), else null. */
  link(): Connection | null {
    return this.state === "ready" ? this.#conn : null;
  }

  get kind(): "ws" | "poll" | undefined {
    return this.#conn?.kind;
  }

  start(): void {
    void this.#connect();
  }

  /** `welcome` arrived: the link is ready; the poll transport starts asking for jobs. */
  welcomed(): void {
    this.state = "ready";
    this.#attempt = 0;
    this.#conn?.ready();
  }

  setToken(token: string): void {
    this.#conn?.setToken(token);
  }

  slotsChanged(): void {
    this.#conn?.slotsChanged();
  }

  close(): void {
    this.state = "closed";
    if (this.#backoffTimer) clearTimeout(this.#backoffTimer);
    const conn = this.#conn;
    this.#conn = null;
    conn?.close();
  }

  async #connect(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "connecting";
    try {
      await this.#o.token.ensure();
    } catch (err) {
      if (this.#isClosed()) return;
      if (err instanceof HttpError && err.code === "agent_revoked") return this.#revoked();
      if (err instanceof HttpError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        return this.#o.onFatal(
          EXIT.revoked,
          `The server refused this agent's identity (${err.message}). ${REENROL_HINT}`,
        );
      }
      this.#o.logger.warn({ err: explainNetError(err) }, "re-authentication failed");
      return this.#scheduleReconnect();
    }
    if (this.#isClosed()) return;
    let conn: Connection | null = null;
    const handlers: ConnectionHandlers = {
      onOpen: () => {
        if (this.#conn !== conn) return;
        this.state = "handshake";
        conn!.send([this.#o.hello()]);
      },
      onMessages: (msgs) => {
        if (this.#conn === conn) this.#o.onMessages(msgs);
      },
      onClose: (code, reason) => {
        if (this.#conn === conn) this.#onClose(code, reason);
      },
    };
    const onBad = (why: string) => this.#o.logger.warn({ why }, "bad frame from server");
    const token = this.#o.token.token;
    conn =
      this.#o.transport === "poll"
        ? openPollConnection({
            http: this.#o.http,
            token,
            waitSecs: this.#o.pollWaitSecs,
            maxFrameBytes: this.#maxFrameBytes,
            freeSlots: () => this.#o.freeSlots(),
            handlers,
          })
        : openWsConnection(this.#o.server.current, token, this.#o.tls, handlers, onBad, this.#maxFrameBytes);
    this.#conn = conn;
  }

  #onClose(code: number, reason: string): void {
    this.#conn = null;
    this.#o.onDown();
    if (this.state === "closed") return;
    if (code === CLOSE_REVOKED) {
      this.#revoked();
      return;
    }
    if (code === CLOSE_TOKEN_INVALID) this.#o.token.invalidate();
    if (code === CLOSE_TOO_LARGE) {
      // The server accepts less than we assumed: smaller frames from now on, or the same frame is
      // refused again forever. A message too large even then is dead-lettered (ack-policy.ts).
      this.#maxFrameBytes = Math.max(MIN_FRAME_BYTES, Math.floor(this.#maxFrameBytes / 2));
      this.#o.logger.warn(
        { maxFrameBytes: this.#maxFrameBytes },
        "server refused a frame as too large; sending smaller ones",
      );
    }
    this.#o.logger.warn({ code, reason }, "connection closed");
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.state === "closed") return;
    this.state = "backoff";
    // With several replicas, the next one is tried: the one just lost may be gone for good.
    if (this.#o.server.urls.length > 1) this.#o.server.next();
    const delay = backoffDelay(this.#attempt++, this.#o.backoff);
    this.#o.logger.info({ delayMs: delay, attempt: this.#attempt, server: this.#o.server.current }, "reconnecting");
    this.#backoffTimer = setTimeout(() => void this.#connect(), delay);
  }

  /** Re-read after awaits (close() may have run meanwhile). */
  #isClosed(): boolean {
    return this.state === "closed";
  }

  #revoked(): void {
    this.#o.onFatal(EXIT.revoked, `This agent (${this.#o.agentId}) was revoked by the server. ${REENROL_HINT}`);
  }
}
