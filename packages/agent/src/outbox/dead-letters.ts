import fs from "node:fs";
import path from "node:path";
import type { JobMessage } from "./outbox.ts";

export interface DeadLettersOptions {
  /** Directory for `dead-letters.jsonl` (the outbox's). */
  dir: string;
  /** Entries kept; older ones are dropped when the file is rewritten. @defaultValue 1000 */
  max?: number;
}

/** Why a message was given up on. */
export interface DeadLetter {
  at: string;
  reason: string;
  /** The server's refusal, when there was one. */
  status?: number;
  code?: string;
  /** The message itself, or only its header when it is large (its size is the reason it is here). */
  message: JobMessage | { type: string; jobId: string; epoch: number; ref: number; bytes: number };
}

const FILE = "dead-letters.jsonl";
/** Larger messages are kept as a header only, so the list stays small on disk. */
const KEEP_WHOLE_BYTES = 64 * 1024;

/**
 * Messages the server refused for good (a non-retryable nack) or that cannot be sent at all (larger
 * than a frame): kept on disk for the operator instead of being resent forever, so later results are
 * not stuck behind them. Bounded: the file is rewritten with the newest `max` entries once it holds
 * twice that many.
 */
export class DeadLetters {
  readonly #file: string;
  readonly #max: number;
  #lines: number;

  constructor(options: DeadLettersOptions) {
    fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.#file = path.join(options.dir, FILE);
    this.#max = options.max ?? 1000;
    this.#lines = fs.existsSync(this.#file) ? this.#read().length : 0;
  }

  /** Entries on the list (at most `max` after a rewrite, up to twice that before). */
  get count(): number {
    return Math.min(this.#lines, this.#max);
  }

  add(msg: JobMessage, reason: string, refusal?: { status: number; code: string }): void {
    const json = JSON.stringify(msg);
    const bytes = Buffer.byteLength(json);
    const entry: DeadLetter = {
      at: new Date().toISOString(),
      reason,
      ...(refusal ? { status: refusal.status, code: refusal.code } : {}),
      message:
        bytes <= KEEP_WHOLE_BYTES ? msg : { type: msg.type, jobId: msg.jobId, epoch: msg.epoch, ref: msg.ref, bytes },
    };
    fs.appendFileSync(this.#file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    if (++this.#lines >= this.#max * 2) this.#trim();
  }

  /** The newest entries, oldest first. */
  list(): DeadLetter[] {
    return this.#read().slice(-this.#max);
  }

  #read(): DeadLetter[] {
    const out: DeadLetter[] = [];
    for (const line of fs.readFileSync(this.#file, "utf8").split("\n")) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as DeadLetter);
      } catch {
        // a torn last line (crash mid-write)
      }
    }
    return out;
  }

  #trim(): void {
    const keep = this.list();
    const tmp = `${this.#file}.tmp`;
    fs.writeFileSync(tmp, keep.map((e) => `${JSON.stringify(e)}\n`).join(""), { mode: 0o600 });
    fs.renameSync(tmp, this.#file);
    this.#lines = keep.length;
  }
}
