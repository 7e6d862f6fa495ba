/**
 * Collects the calls made during one event-loop turn and runs them as one statement on the next
 * (setImmediate), as the SQLite store's group commit does for its writes: a busy fleet's completions
 * cost one round trip and one commit per turn instead of one each. `run` returns one result per
 * input, in order; a failure fails the whole batch's callers.
 */
export class TickBatcher<I, O> {
  readonly #run: (inputs: I[]) => Promise<O[]>;
  #pending: Array<{ input: I; resolve: (o: O) => void; reject: (err: unknown) => void }> = [];

  constructor(run: (inputs: I[]) => Promise<O[]>) {
    this.#run = run;
  }

  add(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => void this.#flush());
      this.#pending.push({ input, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    try {
      const out = await this.#run(batch.map((b) => b.input));
      for (const [i, b] of batch.entries()) b.resolve(out[i]!);
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
