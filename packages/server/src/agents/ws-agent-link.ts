import type { AssignedJob, ServerToAgent } from "@gantry/protocol";
import type { WebSocket } from "ws";
import { type AgentLink, LinkBookkeeping } from "../dispatch/agent-link.ts";

/**
 * An agent on a WebSocket. Outgoing messages of one event-loop turn leave as one frame (a JSON array
 * when there are several), which is what lets thousands of pushes and acks a second fit on 2 cores.
 */
export class WsAgentLink extends LinkBookkeeping implements AgentLink {
  readonly transport = "ws" as const;
  lastSeenAt = Date.now();
  tokenExpiresAt: number;
  readonly #socket: WebSocket;
  #out: ServerToAgent[] = [];
  #flushScheduled = false;

  constructor(agentId: string, socket: WebSocket, tokenExpiresAt: number) {
    super(agentId);
    this.#socket = socket;
    this.tokenExpiresAt = tokenExpiresAt;
  }

  acceptable(): number {
    return Number.POSITIVE_INFINITY;
  }

  deliver(jobs: AssignedJob[]): void {
    this.send(jobs.map((job) => ({ type: "job:assign", job })));
  }

  send(messages: ServerToAgent[]): void {
    // A link closed for dispatch may still answer (the ack of a deregister); the socket decides.
    if (messages.length === 0) return;
    this.#out.push(...messages);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  close(code: number, reason: string): void {
    this.#flush();
    this.open = false;
    this.#socket.close(code, reason);
  }

  #flush(): void {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.length === 0) return;
    this.#out = [];
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(JSON.stringify(out.length === 1 ? out[0] : out));
  }
}
