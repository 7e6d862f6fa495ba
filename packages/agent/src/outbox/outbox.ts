import fs from "node:fs";
import path from "node:path";
import type { AgentToServer, HeldJob } from "@gantry/protocol";

/** The agent messages about a job: kept until the server acknowledges them. */
export type JobMessage = Extract<AgentToServer, { jobId: string }>;
/** A job message before the outbox gives it a ref. */
export type NewJobMessage = JobMessage extends infer M ? (M extends JobMessage ? Omit<M, "ref"> : never) : never;

export interface OutboxOptions {
  /** Directory for `outbox.jsonl`; created if missing. */
  dir: string;
  /**
   * Durability policy. Every batch is written to the journal (one write per event-loop turn) before
   * it is sent, so a killed agent process loses nothing. `0` also fsyncs each batch before sending
   * (survives power loss, costs a disk flush per turn); `n > 0` fsyncs at most every n ms, so a power
   * loss can lose the last n ms of results — those jobs are then re-run after their lease lapses.
   * @defaultValue 1000
   */
  fsyncIntervalMs?: number;
  /** Rewrite the journal once it holds this many dead records (and more dead than live). @defaultValue 10000 */
  compactAfter?: number;
}

const FILE = "outbox.jsonl";
const TERMINAL = new Set<JobMessage["type"]>(["job:completed", "job:failed", "job:cancelled", "job:rejected"]);

/**
 * The disk-backed outbox: an append-only JSONL journal of `{"p":msg}` (put) and `{"a":ref}` (acked)
 * records, replayed on open and compacted when mostly dead. Refs are monotonic across restarts
 * (`{"n":next}` header, and never below the wall clock in ms) so a ref is never reused.
 */
export class Outbox {
  readonly #file: string;
  readonly #fsyncIntervalMs: number;
  readonly #compactAfter: number;
  readonly #live = new Map<number, JobMessage>();
  #fd: number;
  #buffer: string[] = [];
  #dead = 0;
  #nextRef: number;
  #dirty = false;
  #fsyncTimer: NodeJS.Timeout | undefined;

  constructor(options: OutboxOptions) {
    fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.#file = path.join(options.dir, FILE);
    this.#fsyncIntervalMs = options.fsyncIntervalMs ?? 1000;
    this.#compactAfter = options.compactAfter ?? 10_000;
    let next = 0;
    if (fs.existsSync(this.#file)) next = this.#replay(fs.readFileSync(this.#file, "utf8"));
    this.#nextRef = Math.max(next, Date.now());
    this.#fd = fs.openSync(this.#file, "a", 0o600);
    if (this.#dead > this.#compactAfter) this.compact();
  }

  /** Unacknowledged messages, oldest first. */
  get size(): number {
    return this.#live.size;
  }

  entries(): IterableIterator<JobMessage> {
    return this.#live.values();
  }

  /** A ref for a message that is not kept (token:refresh, deregister): same sequence, never reused. */
  allocRef(): number {
    return this.#nextRef++;
  }

  put(msg: NewJobMessage): JobMessage {
    const full = { ...msg, ref: this.#nextRef++ } as JobMessage;
    this.#live.set(full.ref, full);
    this.#buffer.push(JSON.stringify({ p: full }));
    return full;
  }

  get(ref: number): JobMessage | undefined {
    return this.#live.get(ref);
  }

  /** Removes an acknowledged (or refused) message. Returns it, or undefined for an unknown ref. */
  ack(ref: number): JobMessage | undefined {
    const msg = this.#live.get(ref);
    if (!msg) return undefined;
    this.#live.delete(ref);
    this.#buffer.push(`{"a":${ref}}`);
    this.#dead += 2;
    return msg;
  }

  /** Drops every message of a job (welcome.drop, stale epoch). Returns how many were dropped. */
  dropJob(jobId: string, epoch?: number): number {
    let n = 0;
    for (const m of [...this.#live.values()]) {
      if (m.jobId === jobId && (epoch === undefined || m.epoch === epoch)) {
        this.ack(m.ref);
        n++;
      }
    }
    return n;
  }

  /** Jobs with messages still waiting for an ack: the agent still answers for them (hello, heartbeat). */
  heldJobs(): HeldJob[] {
    const seen = new Map<string, number>();
    for (const m of this.#live.values()) seen.set(m.jobId, m.epoch);
    return [...seen].map(([jobId, epoch]) => ({ jobId, epoch }));
  }

  /** True when the job's final message (completed/failed/cancelled/rejected) is waiting for its ack. */
  hasTerminal(jobId: string): boolean {
    for (const m of this.#live.values()) if (m.jobId === jobId && TERMINAL.has(m.type)) return true;
    return false;
  }

  /** Writes the buffered records in one write; call once per event-loop turn before sending. */
  commit(): void {
    if (this.#buffer.length === 0) return;
    fs.writeSync(this.#fd, `${this.#buffer.join("\n")}\n`);
    this.#buffer = [];
    this.#dirty = true;
    if (this.#fsyncIntervalMs === 0) this.#sync();
    else if (!this.#fsyncTimer) {
      this.#fsyncTimer = setTimeout(() => {
        this.#fsyncTimer = undefined;
        this.#sync();
      }, this.#fsyncIntervalMs);
      this.#fsyncTimer.unref();
    }
    if (this.#dead > this.#compactAfter && this.#dead > this.#live.size) this.compact();
  }

  /** Rewrites the journal with only the live messages (tmp file + fsync + rename). */
  compact(): void {
    const tmp = `${this.#file}.tmp`;
    const lines = [JSON.stringify({ n: this.#nextRef })];
    for (const m of this.#live.values()) lines.push(JSON.stringify({ p: m }));
    fs.writeFileSync(tmp, `${lines.join("\n")}\n`, { mode: 0o600 });
    const fd = fs.openSync(tmp, "r+");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.closeSync(this.#fd);
    fs.renameSync(tmp, this.#file);
    this.#fd = fs.openSync(this.#file, "a", 0o600);
    this.#dead = 0;
    this.#buffer = [];
  }

  close(): void {
    this.commit();
    if (this.#fsyncTimer) clearTimeout(this.#fsyncTimer);
    this.#fsyncTimer = undefined;
    this.#sync();
    fs.closeSync(this.#fd);
  }

  #sync(): void {
    if (!this.#dirty) return;
    fs.fdatasyncSync(this.#fd);
    this.#dirty = false;
  }

  /** Rebuilds the live set; a torn last line (crash mid-write) is ignored. Returns the next ref. */
  #replay(text: string): number {
    let next = 0;
    for (const line of text.split("\n")) {
      if (line.length === 0) continue;
      let rec: { p?: JobMessage; a?: number; n?: number };
      try {
        rec = JSON.parse(line);
      } catch {
        continue;
      }
      if (rec.p && typeof rec.p.ref === "number") {
        this.#live.set(rec.p.ref, rec.p);
        next = Math.max(next, rec.p.ref + 1);
      } else if (typeof rec.a === "number") {
        if (this.#live.delete(rec.a)) this.#dead += 2;
        else this.#dead += 1;
        next = Math.max(next, rec.a + 1);
      } else if (typeof rec.n === "number") {
        next = Math.max(next, rec.n);
      }
    }
    return next;
  }
}
