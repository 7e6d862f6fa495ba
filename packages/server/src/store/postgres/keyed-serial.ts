/**
 * Runs tasks with the same key one after another, in call order; other keys run alongside. The
 * SQLite store applies writes in call order by construction (one writer, synchronous statements);
 * callers rely on it (an agent's batch of job:started then job:completed is issued at once), so the
 * PostgreSQL store keeps that order per job while different jobs' statements run in parallel.
 */
export class KeyedSerial {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => {});
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}
