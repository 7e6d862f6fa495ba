/**
 * Typed events named `scope:noun:verb`. Listeners run synchronously in the order they subscribed; a
 * throwing listener is reported and cannot break the emitter's hot path or the other listeners.
 */
export class SafeEmitter<Events extends { [name: string]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, Set<unknown>>();
  readonly #onListenerError: (err: unknown) => void;

  constructor(onListenerError: (err: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as (...a: Events[K]) => void)(...args);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }
}
