import { useEffect, useState } from "preact/hooks";

/** A value pages render from; `set` tells every component that uses it. */
export class Store<T> {
  #value: T;
  readonly #listeners = new Set<(v: T) => void>();
  constructor(value: T) {
    this.#value = value;
  }
  get value(): T {
    return this.#value;
  }
  set(value: T): void {
    this.#value = value;
    for (const l of this.#listeners) l(value);
  }
  subscribe(l: (v: T) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
}

export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.value);
  useEffect(() => {
    setValue(store.value);
    return store.subscribe(setValue);
  }, [store]);
  return value;
}

/** Re-renders every `ms` (for ages and durations shown relative to now; no network). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
