/** Runs tasks one after another, each starting when the previous one has settled. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.#pending += 1;
    const result = this.#tail.then(async () => {
      try {
        return await task();
      } finally {
        this.#pending -= 1;
      }
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Nothing queued or running. */
  get idle(): boolean {
    return this.#pending === 0;
  }
}
