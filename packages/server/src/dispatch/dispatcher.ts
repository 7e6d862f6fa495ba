import type { AssignedJob } from "@gantry/protocol";
import type { JobRecord, Store } from "../store/store.ts";
import { getOrCreate } from "../util/get-or-create.ts";
import { SafeEmitter } from "../util/safe-emitter.ts";
import { type AgentLink, freeSlots } from "./agent-link.ts";
import type { AgentRegistry } from "./agent-registry.ts";

/** The most jobs one claim takes: bounds one transaction and one push frame. */
const MAX_CLAIM = 512;

export interface DispatcherDeps {
  store: Store;
  registry: AgentRegistry;
  leaseMs: number;
  /** A link silent this long has missed heartbeats: it is offered no new work. */
  stalledMs: number;
  /** New work here may be for agents on other replicas: tell them (ClusterBus `work`). */
  announceWork?: (capability: string) => void;
  onError: (err: unknown) => void;
}

export type DispatcherEvents = {
  /** Jobs pushed to their agents (after the claim committed). */
  "dispatch:jobs:assigned": [jobs: JobRecord[]];
  /** Jobs claimed for a link that closed before the push: they must go back to the queue. */
  "dispatch:jobs:orphaned": [jobs: JobRecord[]];
};

/**
 * Push dispatch. A kick (submit, agent connect, slot release, backoff expiry) marks a capability; one
 * pass per event-loop turn claims queued jobs for every free slot (higher tiers first, round-robin
 * within a tier) in one store call, and pushes them once the claim is durable.
 */
export class Dispatcher {
  readonly #d: DispatcherDeps;
  readonly events: SafeEmitter<DispatcherEvents>;
  readonly #pending = new Set<string>();
  /** Capabilities that found slots only reserved by another capability's in-flight claim. */
  readonly #blocked = new Set<string>();
  /**
   * Capabilities whose last claim found no eligible job, so slot releases and agent connects need not
   * ask the store again (with 10k agents connecting, each asking cost a write per connect). New work
   * (markWork) clears the mark; the sequence number keeps a claim that raced new work from setting it.
   */
  readonly #empty = new Set<string>();
  readonly #workSeq = new Map<string, number>();
  #scheduled = false;

  constructor(deps: DispatcherDeps) {
    this.#d = deps;
    this.events = new SafeEmitter(deps.onError);
  }

  /** Jobs of this capability may have become eligible (submitted, requeued, retried, delay over). */
  markWork(capability: string, announce = true): void {
    if (announce) this.#d.announceWork?.(capability);
    this.#empty.delete(capability);
    this.#workSeq.set(capability, (this.#workSeq.get(capability) ?? 0) + 1);
    this.kick(capability);
  }

  /** Free slots may have appeared for this capability (agent connected, job finished). */
  kick(capability: string): void {
    this.#pending.add(capability);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#pass());
  }

  kickLink(link: AgentLink): void {
    for (const cap of link.capabilities) this.kick(cap);
  }

  #pass(): void {
    this.#scheduled = false;
    const caps = [...this.#pending];
    this.#pending.clear();
    for (const cap of caps) this.#dispatch(cap);
  }

  #dispatch(capability: string): void {
    if (this.#empty.has(capability)) return;
    const links = this.#d.registry.linksFor(capability);
    const slots = slotsFor(links, Date.now() - this.#d.stalledMs, (l) => hasModelLoaded(l, capability));
    // An agent serving several capabilities may have its free slots promised to another capability's
    // claim still in flight; if that claim comes back short, this capability must be tried again.
    for (const link of links) {
      if (link.open && link.reserved > 0 && link.jobs.size + link.reserved >= link.capacity)
        this.#blocked.add(capability);
    }
    if (slots.length === 0) return;
    const offered = new Map<AgentLink, number>();
    for (const link of slots) offered.set(link, (offered.get(link) ?? 0) + 1);
    for (const [link, n] of offered) link.reserved += n;
    const now = Date.now();
    const seq = this.#workSeq.get(capability);
    this.#d.store
      .claimJobs(
        capability,
        slots.map((l) => l.agentId),
        now,
        now + this.#d.leaseMs,
      )
      .then(
        (jobs) => {
          if (jobs.length < slots.length && this.#workSeq.get(capability) === seq) this.#empty.add(capability);
          this.#deliver(jobs, offered);
        },
        (err) => {
          for (const [link, n] of offered) link.reserved -= n;
          this.#d.onError(err);
        },
      );
  }

  #deliver(jobs: JobRecord[], offered: Map<AgentLink, number>): void {
    const byLink = new Map<AgentLink, AssignedJob[]>();
    const orphaned: JobRecord[] = [];
    const links = new Map([...offered.keys()].map((l) => [l.agentId, l]));
    for (const [link, n] of offered) link.reserved -= n;
    if (jobs.length < [...offered.values()].reduce((a, b) => a + b, 0) && this.#blocked.size > 0) {
      const retry = [...this.#blocked];
      this.#blocked.clear();
      for (const cap of retry) this.kick(cap);
    }
    for (const job of jobs) {
      const link = links.get(job.agentId!)!;
      if (!link.open) {
        orphaned.push(job);
        continue;
      }
      link.jobs.add(job.id);
      getOrCreate(byLink, link, () => []).push(assignedJob(job));
    }
    for (const [link, list] of byLink) link.deliver(list);
    if (orphaned.length > 0) this.events.emit("dispatch:jobs:orphaned", orphaned);
    if (jobs.length > orphaned.length) {
      this.events.emit(
        "dispatch:jobs:assigned",
        jobs.filter((j) => !orphaned.includes(j)),
      );
    }
  }
}

/**
 * Slot list for one claim: tiers high to low; inside a tier, agents that `prefer` (the job's model is
 * already loaded there) come first, then agents take turns. Only free slots are ever listed, so the
 * preference reorders who gets a job now and never holds one back for a busy agent (docs/llm.md,
 * "Dispatch"). Links not heard from since `seenAfter` (missed heartbeats) get nothing: their jobs
 * would only wait for a lease to lapse.
 */
export function slotsFor(
  candidates: Iterable<AgentLink>,
  seenAfter = 0,
  prefer: (link: AgentLink) => boolean = () => false,
): AgentLink[] {
  const byTier = new Map<number, Array<{ link: AgentLink; free: number }>>();
  for (const link of candidates) {
    const free = link.lastSeenAt < seenAfter ? 0 : freeSlots(link);
    if (free === 0) continue;
    getOrCreate(byTier, link.tier, () => []).push({ link, free });
  }
  const slots: AgentLink[] = [];
  for (const tier of [...byTier.keys()].sort((a, b) => b - a)) {
    const all = byTier.get(tier)!;
    const preferred = all.filter((e) => prefer(e.link));
    for (const group of preferred.length > 0 ? [preferred, all.filter((e) => !preferred.includes(e))] : [all])
      takeTurns(group, slots);
  }
  return slots;
}

/** Appends the group's free slots to `slots`, one per agent in turn (up to MAX_CLAIM in all). */
function takeTurns(group: Array<{ link: AgentLink; free: number }>, slots: AgentLink[]): void {
  let more = true;
  while (more && slots.length < MAX_CLAIM) {
    more = false;
    for (const entry of group) {
      if (entry.free === 0 || slots.length >= MAX_CLAIM) continue;
      slots.push(entry.link);
      entry.free -= 1;
      more = more || entry.free > 0;
    }
  }
}

/** The agent's last heartbeat listed the capability's model as loaded (llm executors report them). */
export function hasModelLoaded(link: AgentLink, capability: string): boolean {
  return link.heartbeat?.metrics?.loadedModels?.includes(capability) === true;
}

export function assignedJob(job: JobRecord): AssignedJob {
  return {
    id: job.id,
    capability: job.capabilityFull,
    payload: job.payload,
    inputs: job.inputs,
    epoch: job.epoch,
    attempt: job.attemptsUsed,
    runtimeSecs: job.runtimeSecs,
    leaseExpiresAt: new Date(job.leaseExpiresAt!).toISOString(),
  };
}
