import type { AssignedJob, ServerToAgent } from "@gantry/protocol";
import { type AgentLink, LinkBookkeeping } from "../dispatch/agent-link.ts";

interface Parked {
  max: number;
  resolve: (jobs: AssignedJob[]) => void;
  timer: NodeJS.Timeout;
}

/**
 * An agent on the HTTP long-poll fallback. It can take jobs only while a `GET /v1/agent/jobs/next`
 * is parked; other messages (cancels) wait for its next `POST /v1/agent/messages`.
 */
export class PollAgentLink extends LinkBookkeeping implements AgentLink {
  readonly transport = "poll" as const;
  #lastSeenAt = Date.now();
  #parked: Parked | null = null;
  #pending: ServerToAgent[] = [];

  /** A parked poll is a live agent. */
  get lastSeenAt(): number {
    return this.#parked ? Date.now() : this.#lastSeenAt;
  }

  set lastSeenAt(t: number) {
    this.#lastSeenAt = t;
  }

  acceptable(): number {
    return this.#parked?.max ?? 0;
  }

  /** Parks a poll: resolves with jobs as soon as dispatch has some, or empty after waitMs. */
  park(max: number, waitMs: number): Promise<AssignedJob[]> {
    this.#lastSeenAt = Date.now();
    this.#unpark([]);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#unpark([]), waitMs);
      this.#parked = { max, resolve, timer };
    });
  }

  /** The poll's HTTP client went away before an answer: stop offering its slots. */
  cancelPark(): void {
    this.#unpark([]);
  }

  deliver(jobs: AssignedJob[]): void {
    this.#unpark(jobs);
  }

  send(messages: ServerToAgent[]): void {
    this.#pending.push(...messages);
  }

  takePending(): ServerToAgent[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  close(): void {
    this.open = false;
    this.#unpark([]);
  }

  #unpark(jobs: AssignedJob[]): void {
    const parked = this.#parked;
    if (!parked) return;
    this.#parked = null;
    clearTimeout(parked.timer);
    this.#lastSeenAt = Date.now();
    parked.resolve(jobs);
  }
}
