import type { JobEvent } from "@gantry/protocol";
import { getOrCreate } from "../util/get-or-create.ts";

export type JobEventListener = (event: JobEvent) => void;

/**
 * The in-process job event stream, emitted after the commit that records each change. Feeds SSE,
 * the client WebSocket and (later) MQTT and LISTEN/NOTIFY. A throwing listener is isolated.
 */
export class JobEvents {
  readonly #byJob = new Map<string, Set<JobEventListener>>();
  readonly #all = new Set<JobEventListener>();
  readonly #emitted = new Set<JobEventListener>();
  onListenerError: (err: unknown) => void = () => {};

  subscribe(jobId: string, listener: JobEventListener): () => void {
    const set = getOrCreate(this.#byJob, jobId, () => new Set<JobEventListener>());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#byJob.delete(jobId);
    };
  }

  /**
   * Events emitted on this replica only, each once across the cluster: for publishing to an external
   * broker (MQTT), which every replica would otherwise publish again.
   */
  subscribeEmitted(listener: JobEventListener): () => void {
    this.#emitted.add(listener);
    return () => this.#emitted.delete(listener);
  }

  subscribeAll(listener: JobEventListener): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }

  /**
   * Publishes a committed change. With a relay (the cluster bus), the event goes through it and comes
   * back to deliver() on every replica, this one included; without, it is delivered here.
   */
  emit(event: JobEvent): void {
    for (const l of this.#emitted) this.#call(l, event);
    if (this.relay) this.relay(event);
    else this.deliver(event);
  }

  /** Where emit sends events when replicas share them (set once at startup). */
  relay: ((event: JobEvent) => void) | undefined;

  /** Hands an event to this process's listeners. */
  deliver(event: JobEvent): void {
    const set = this.#byJob.get(event.jobId);
    if (set) for (const l of [...set]) this.#call(l, event);
    for (const l of this.#all) this.#call(l, event);
  }

  #call(listener: JobEventListener, event: JobEvent): void {
    try {
      listener(event);
    } catch (err) {
      this.onListenerError(err);
    }
  }
}
