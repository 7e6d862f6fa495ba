export type Listener<T> = (payload: T) => void | Promise<void>;

/**
 * A small typed event emitter that works in browsers (no node:events). emit() never throws: a
 * listener that throws or rejects is reported to `onListenerError` and the rest still run, so a bad
 * listener cannot break the loop that emits (graphile-worker's safeEmit).
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #onListenerError: (error: unknown, event: keyof Events) => void;

  constructor(onListenerError: (error: unknown, event: keyof Events) => void) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      safeCall(listener as Listener<Events[K]>, payload, (error) => this.#report(error, event));
    }
  }

  #report(error: unknown, event: keyof Events): void {
    try {
      this.#onListenerError(error, event);
    } catch {
      // the error reporter failed too; nothing sensible left to do
    }
  }
}

/** Calls a user callback; sync throws and async rejections both go to onError, never to the caller. */
export function safeCall<T>(fn: Listener<T>, payload: T, onError: (error: unknown) => void): void {
  try {
    const result = fn(payload);
    if (result && typeof (result as Promise<void>).then === "function") {
      (result as Promise<void>).then(undefined, onError);
    }
  } catch (error) {
    onError(error);
  }
}
