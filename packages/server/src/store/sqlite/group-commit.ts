import type Database from "better-sqlite3";
import { describeStorageError, isStorageFullError } from "../storage-errors.ts";

/**
 * Group commit: every write issued during one event-loop turn runs inside one transaction, committed
 * (fsync with synchronous=FULL) on setImmediate. Each write's promise resolves only after that commit,
 * so no 2xx, ack or push can precede the commit that records it.
 *
 * A full disk (SQLITE_FULL, IOERR) fails the writes it touches and is remembered as storageIssue
 * until a later commit succeeds: nothing needs a restart when space returns.
 *
 * Measured on this 2-core VM (bench/): one commit per write caps out near 4-5k writes/s; batching a
 * turn's writes lifts that above 50k/s, since fsync, not SQL, is the cost.
 */
export class GroupCommit {
  #waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> | null = null;
  // Prepared once: db.exec parses its SQL on every call, which showed up in bench/ profiles.
  readonly #begin: Database.Statement;
  readonly #commitStmt: Database.Statement;
  readonly #rollback: Database.Statement;
  readonly #savepoint: Database.Statement;
  readonly #release: Database.Statement;
  readonly #rollbackTo: Database.Statement;

  readonly #db: Database.Database;
  #storageIssue: string | null = null;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commitStmt = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
    // Writes run one after another, so one savepoint name serves them all.
    this.#savepoint = db.prepare("SAVEPOINT w");
    this.#release = db.prepare("RELEASE w");
    this.#rollbackTo = db.prepare("ROLLBACK TO w");
  }

  /** Runs `fn` in the current batch (opening one if needed); resolves with its result after commit. */
  write<T>(fn: () => T): Promise<T> {
    let result: T;
    try {
      this.#open();
      // A savepoint per write: a failing write rolls back alone and leaves the batch intact.
      this.#savepoint.run();
      result = fn();
      this.#release.run();
    } catch (err) {
      this.#undo(err);
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      this.#waiters?.push({ resolve: () => resolve(result), reject });
    });
  }

  /**
   * Undoes a failed write. On SQLITE_FULL or IOERR SQLite may have rolled back the whole batch by
   * itself: then the batch's earlier writes are gone too, so their waiters are failed now (they were
   * never committed) and the next write opens a fresh batch.
   */
  #undo(err: unknown): void {
    this.#note(err);
    if (this.#waiters === null) return;
    if (this.#db.inTransaction) {
      try {
        this.#rollbackTo.run();
        this.#release.run();
        return;
      } catch {
        try {
          this.#rollback.run();
        } catch {
          // already rolled back by SQLite
        }
      }
    }
    const waiters = this.#waiters;
    this.#waiters = null;
    for (const w of waiters) w.reject(err);
  }

  /** Why the last write or commit failed for lack of disk, or null once a commit succeeds again. */
  get storageIssue(): string | null {
    return this.#storageIssue;
  }

  #note(err: unknown): void {
    if (isStorageFullError(err)) this.#storageIssue = describeStorageError(err);
  }

  /** Resolves after the open batch (if any) commits. */
  barrier(): Promise<void> {
    if (this.#waiters === null) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters?.push({ resolve, reject }));
  }

  /** Commits now (used on close). */
  flush(): void {
    this.#commit();
  }

  #open(): void {
    if (this.#waiters !== null) return;
    this.#begin.run();
    this.#waiters = [];
    setImmediate(() => this.#commit());
  }

  #commit(): void {
    const waiters = this.#waiters;
    if (waiters === null) return;
    this.#waiters = null;
    try {
      this.#commitStmt.run();
    } catch (err) {
      this.#note(err);
      try {
        this.#rollback.run();
      } catch {
        // already rolled back by SQLite
      }
      for (const w of waiters) w.reject(err);
      return;
    }
    this.#storageIssue = null;
    for (const w of waiters) w.resolve();
  }
}
