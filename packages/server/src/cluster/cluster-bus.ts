import type { JobEvent, ServerToAgent } from "@gantry/protocol";

/**
 * What replicas tell each other. Internal to the server (never seen by agents or clients), so it is
 * declared here rather than in protocol.
 */
export type ClusterMessage =
  /** A job event, committed on the sending replica: every watcher, wherever connected, gets it. */
  | { kind: "job:event"; event: JobEvent }
  /** Messages for an agent (cancels, deadline stops): the replica holding its current link sends them. */
  | { kind: "agent:send"; agentId: string; messages: ServerToAgent[] }
  /** A command is pending for an agent: the replica holding its link delivers it (Store.settleCommand). */
  | { kind: "agent:command"; agentId: string }
  /** An agent opened session `session` on replica `replicaId`: older links elsewhere are stale. */
  | { kind: "agent:session"; agentId: string; session: number; replicaId: string }
  /** A slot of an agent connected elsewhere is free (the job ended here), or held until it stops. */
  | { kind: "slot:release"; agentId: string; jobId: string }
  | { kind: "slot:hold"; agentId: string; jobId: string; at: number }
  /** Jobs of this capability became claimable: replicas with agents for it dispatch. */
  | { kind: "work"; capability: string }
  /** An agent was revoked: the replica holding its link closes it. */
  | { kind: "agent:revoked"; agentId: string }
  /** An API key was revoked: drop it from every replica's cache and end its live connections. */
  | { kind: "apikey:revoked"; hash: string; id: string }
  /** A user was changed, deleted, logged out or changed its password: sessions are re-read, its live connections re-checked. */
  | { kind: "user:changed"; userId: string; sessionId?: string };

export type ClusterListener = (msg: ClusterMessage) => void;

/**
 * The event-bus interface: how anything that must reach an agent or a subscriber on another replica
 * travels. In-process by default (LocalClusterBus); PostgreSQL LISTEN/NOTIFY across replicas
 * (PostgresClusterBus). Delivery is at most once and after the commit that caused it: receivers
 * treat each message as a hint and decide from the store (fenced verbs, session epochs).
 */
export interface ClusterBus {
  /** Delivers to this replica's listeners at once, and to every other replica's. */
  publish(msg: ClusterMessage): void;
  subscribe(listener: ClusterListener): () => void;
  close(): Promise<void>;
}

/** Listeners with isolated failures, shared by the bus implementations. */
export class ClusterListeners {
  readonly #set = new Set<ClusterListener>();
  onError: (err: unknown) => void = () => {};

  add(listener: ClusterListener): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  deliver(msg: ClusterMessage): void {
    for (const l of this.#set) {
      try {
        l(msg);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}

/** One process: publishing is delivering. */
export class LocalClusterBus implements ClusterBus {
  readonly #listeners = new ClusterListeners();

  set onError(fn: (err: unknown) => void) {
    this.#listeners.onError = fn;
  }

  publish(msg: ClusterMessage): void {
    this.#listeners.deliver(msg);
  }

  subscribe(listener: ClusterListener): () => void {
    return this.#listeners.add(listener);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
