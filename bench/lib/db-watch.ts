import Database from "better-sqlite3";

/**
 * Reads the server's SQLite file read-only (WAL lets a reader run beside the writer) to see
 * completions made by agents the bench cannot instrument (real Gantry agents).
 */
export class DbWatch {
  readonly #db: Database.Database;
  readonly #count: Database.Statement;
  readonly #lastEnd: Database.Statement;

  constructor(file: string) {
    this.#db = new Database(file, { readonly: true, fileMustExist: true });
    this.#count = this.#db.prepare("SELECT count(*) AS n FROM jobs WHERE status = 'completed' AND capability = ?");
    this.#lastEnd = this.#db.prepare(
      "SELECT max(ended_at) AS t FROM jobs WHERE status = 'completed' AND capability = ?",
    );
  }

  completed(capability: string): number {
    return (this.#count.get(capability) as { n: number }).n;
  }

  /** Epoch ms of the last completion (server clock). */
  lastEndedAt(capability: string): number {
    return (this.#lastEnd.get(capability) as { t: number | null }).t ?? Number.NaN;
  }

  /** Polls until `n` jobs of `capability` are completed; resolves with the last ended_at. */
  async waitCompleted(capability: string, n: number, timeoutMs: number, everyMs = 20): Promise<number> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const done = this.completed(capability);
      if (done >= n) return this.lastEndedAt(capability);
      if (Date.now() > end) throw new Error(`only ${done} of ${n} jobs completed within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  close(): void {
    this.#db.close();
  }
}
