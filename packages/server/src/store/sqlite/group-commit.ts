import fs from "node:fs";
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
 *
 * With `walPath` (a file database opened with synchronous=NORMAL), COMMIT only writes the WAL and the
 * fsync runs off the event loop: fdatasync of the WAL on libuv's thread pool, and the batch's promises
 * (and barrier()) resolve only after it, so durability is what synchronous=FULL gives. Why: with FULL
 * the COMMIT blocks the server's only thread for the whole fsync; under bench/media-gantry-bench.ts
 * on a shared, loaded 2-core box that was 52% of the server's busy time (≈ 8 ms a job), during which no
 * socket was read and no other job moved.
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
  readonly #walPath: string | undefined;
  #walFd: number | null = null;
  /** The last off-thread sync still running (barrier() waits for it). */
  #syncing: Promise<void> | null = null;

  constructor(db: Database.Database, opts: { walPath?: string | undefined } = {}) {
    this.#db = db;
    this.#walPath = opts.walPath;
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
    if (this.#waiters === null) return this.#syncing ?? Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters?.push({ resolve, reject }));
  }

  /** Commits now and syncs the WAL before returning (used on close); then forgets the WAL's fd. */
  flush(): void {
    this.#commit();
    if (this.#walFd !== null) {
      fs.fdatasyncSync(this.#walFd);
      fs.closeSync(this.#walFd);
      this.#walFd = null;
    }
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
    if (this.#walPath === undefined) {
      this.#storageIssue = null;
      for (const w of waiters) w.resolve();
      return;
    }
    this.#sync(waiters);
  }

  /** fdatasync of the WAL on the thread pool; the batch's waiters settle after it. */
  #sync(waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>): void {
    const p = new Promise<void>((resolve, reject) => {
      try {
        this.#walFd ??= fs.openSync(this.#walPath!, "r");
      } catch (err) {
        reject(err);
        return;
      }
      fs.fdatasync(this.#walFd, (err) => (err ? reject(err) : resolve()));
    });
    const settled = p.then(
      () => {
        this.#storageIssue = null;
        for (const w of waiters) w.resolve();
      },
      (err: unknown) => {
        this.#note(err);
        for (const w of waiters) w.reject(err);
      },
    );
    this.#syncing = settled;
    void settled.then(() => {
      if (this.#syncing === settled) this.#syncing = null;
    });
  }
}
