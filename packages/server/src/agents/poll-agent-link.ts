import type { AssignedJob, ServerToAgent } from "@gantry/protocol";
import { type AgentLink, LinkBookkeeping } from "../dispatch/agent-link.ts";

interface Parked {
  max: number;
  resolve: (jobs: AssignedJob[]) => void;
  timer: NodeJS.Timeout;
}

/**
 * An agent on the HTTP long-poll fallback. It can take jobs only while a `GET /v1/agent/jobs/next`
 * is parked; other messages (cancels) wait for its next `POST /v1/agent/messages`. Jobs that find no
 * parked poll (it answered or its client went away a moment before) wait for the next poll, so a
 * delivery is never dropped; if no poll comes, the link goes silent and its jobs are requeued.
 */
export class PollAgentLink extends LinkBookkeeping implements AgentLink {
  readonly transport = "poll" as const;
  #lastSeenAt = Date.now();
  #parked: Parked | null = null;
  #pending: ServerToAgent[] = [];
  #undelivered: AssignedJob[] = [];

  /** A parked poll is a live agent. */
  get lastSeenAt(): number {
    return this.#parked ? Date.now() : this.#lastSeenAt;
  }

  set lastSeenAt(t: number) {
    this.#lastSeenAt = t;
  }

  acceptable(): number {
    return Math.max(0, (this.#parked?.max ?? 0) - this.#undelivered.length);
  }

  /** Parks a poll: resolves with jobs as soon as dispatch has some, or empty after waitMs. */
  park(max: number, waitMs: number): Promise<AssignedJob[]> {
    this.#lastSeenAt = Date.now();
    // An earlier poll still parked is one the agent gave up on: answer it empty, keep the jobs.
    this.#unpark(false);
    if (this.#undelivered.length > 0) return Promise.resolve(this.#take(max));
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#unpark(true), waitMs);
      this.#parked = { max, resolve, timer };
    });
  }

  /** The poll's HTTP client went away before an answer: stop offering its slots. */
  cancelPark(): void {
    this.#unpark(false);
  }

  /** Jobs a poll was answered with but could not carry (its client had gone): they go with the next poll. */
  putBack(jobs: AssignedJob[]): void {
    this.#undelivered.unshift(...jobs);
  }

  deliver(jobs: AssignedJob[]): void {
    this.#undelivered.push(...jobs);
    this.#unpark(true);
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
    this.#unpark(false);
  }

  #unpark(withJobs: boolean): void {
    const parked = this.#parked;
    if (!parked) return;
    this.#parked = null;
    clearTimeout(parked.timer);
    this.#lastSeenAt = Date.now();
    parked.resolve(withJobs ? this.#take(parked.max) : []);
  }

  /** Up to `max` waiting jobs, skipping any the server took back meanwhile (requeued, ended). */
  #take(max: number): AssignedJob[] {
    this.#undelivered = this.#undelivered.filter((j) => this.jobs.has(j.id));
    return this.#undelivered.splice(0, max);
  }
}
