import type { Store } from "../store/store.ts";
import type { AgentLink } from "./agent-link.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import type { Dispatcher } from "./dispatcher.ts";
import type { JobLifecycle } from "./job-lifecycle.ts";
import type { SlotKeeper } from "./slot-keeper.ts";

export interface SweeperDeps {
  store: Store;
  lifecycle: JobLifecycle;
  slots: SlotKeeper;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  intervalMs: number;
  /** This server among the replicas sharing the store (see Store.replicaAlive). */
  replicaId: string;
  /** A replica not seen this long is down. */
  aliveWithinMs: number;
  /** Record this replica alive every this often; null for the embedded store (one replica, no writes). */
  aliveEveryMs: number | null;
  /** A link silent this long is dead (missed heartbeats on a half-open socket, a poller gone). */
  silenceMs: number;
  onDisconnect: (link: AgentLink) => void;
  onError: (err: unknown) => void;
}

const BATCH = 500;

/**
 * The timer loop: expired leases, job deadlines, silent links, slots held too long for jobs being
 * stopped, and a periodic kick of every served capability (a safety net for backoff wake-ups lost
 * across a restart).
 */
export class Sweeper {
  readonly #d: SweeperDeps;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #ticks = 0;
  #aliveAt = 0;

  constructor(deps: SweeperDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#current = this.tick();
    }, this.#d.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer; resolves once a tick in flight has finished (before the store closes). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#current;
  }

  #current: Promise<void> = Promise.resolve();

  async tick(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const now = Date.now();
      if (this.#d.aliveEveryMs !== null && now - this.#aliveAt >= this.#d.aliveEveryMs) {
        await this.#d.store.replicaAlive(this.#d.replicaId, now, this.#d.aliveWithinMs, null);
        this.#aliveAt = now;
      }
      await this.#d.lifecycle.expireLeases(now, BATCH);
      await this.#d.lifecycle.deadlines(now, BATCH);
      for (const link of [...this.#d.registry.all()]) {
        if (link.stopping.size > 0) this.#d.slots.releaseOverdue(link, now);
        const silent = now - link.lastSeenAt > this.#d.silenceMs;
        const expired = link.tokenExpiresAt !== undefined && now > link.tokenExpiresAt;
        if (silent || expired) this.#d.onDisconnect(link);
      }
      // Every replica kicks its own agents' capabilities: no need to announce these on the bus.
      if (++this.#ticks % 5 === 0)
        for (const cap of this.#d.registry.capabilities()) this.#d.dispatcher.markWork(cap, false);
    } catch (err) {
      this.#d.onError(err);
    } finally {
      this.#running = false;
    }
  }
}
