import { type AgentToServer, type AssignedJob, type JobProgress, TOKENS_TEXT_MAX } from "@gantry/protocol";
import type { Connection } from "../connection/connection.ts";
import { splitFrames } from "../connection/frame-limits.ts";
import type { NewJobMessage, Outbox } from "../outbox/outbox.ts";

/** Messages sent once and answered by an ack or nack, but never kept in the outbox. */
export type RequestMessage = Extract<AgentToServer, { type: "token:refresh" | "deregister" | "command:result" }>;

export interface OutgoingBatcherOptions {
  outbox: Outbox;
  /** The connection to send on, or null while it is not `ready` (job messages then wait in the outbox). */
  link(): Connection | null;
  /** A message larger than a frame on its own: it can never be sent (the ack policy dead-letters it). */
  onUnsendable(msg: AgentToServer, bytes: number, limit: number): void;
}

/** Log lines per `job:log` message (the protocol's limit). */
const MAX_LOG_LINES = 1000;
/** Longest log line kept, in characters, marker included (the protocol's limit). */
const MAX_LOG_LINE = 65_536;
/**
 * Serialised bytes of log lines per `job:log` message: with one line of up to 64 Ki characters
 * (at most ~384 KiB escaped) a message always fits a long-poll frame (frame-limits.ts).
 */
const MAX_LOG_MESSAGE_BYTES = 256 * 1024;

/** The messages that end an attempt: after one, the job's token count starts again. */
const FINAL = new Set<AgentToServer["type"]>(["job:completed", "job:failed", "job:cancelled", "job:rejected"]);

/** `text` in pieces of at most `max` UTF-16 units, never splitting a surrogate pair. */
export function splitText(text: string, max: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(i + max, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff && end - 1 > i) end -= 1;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

/** A line cut to the protocol's limit, saying how much was cut. */
export function truncateLogLine(line: string): string {
  if (line.length <= MAX_LOG_LINE) return line;
  const marker = ` … [truncated: ${line.length} characters, ${MAX_LOG_LINE} kept]`;
  return line.slice(0, MAX_LOG_LINE - marker.length) + marker;
}

/**
 * The control loop's outgoing side, batched per event-loop turn: everything produced in one turn is
 * journaled with one outbox write and sent as one frame. Progress is coalesced (the latest per job),
 * log lines and LLM tokens are gathered per job until the flush, or until the job's final message,
 * which must come after them. Tokens are never dropped: a turn's text goes as one `job:tokens`
 * (split at TOKENS_TEXT_MAX), numbered 1, 2, 3… per attempt.
 */
export class OutgoingBatcher {
  readonly #o: OutgoingBatcherOptions;
  #toSend: AgentToServer[] = [];
  #scheduled = false;
  #progress = new Map<string, { job: AssignedJob; p: JobProgress }>();
  #logs = new Map<string, { job: AssignedJob; lines: { stream: "stdout" | "stderr"; line: string }[] }>();
  #pending = new Map<number, (ok: boolean) => void>();
  #tokens = new Map<string, { job: AssignedJob; text: string }>();
  /** The last `job:tokens` seq per job (for its current epoch). */
  #tokenSeq = new Map<string, { epoch: number; seq: number }>();

  constructor(options: OutgoingBatcherOptions) {
    this.#o = options;
  }

  /** A job message: journaled in the outbox (kept until acked), and sent now if the link is ready. */
  put(msg: NewJobMessage): void {
    if (FINAL.has(msg.type)) this.#tokenSeq.delete(msg.jobId);
    const full = this.#o.outbox.put(msg);
    if (this.#o.link()) this.#toSend.push(full);
    this.schedule();
  }

  /** Keeps only the latest progress of a job per turn. */
  progress(job: AssignedJob, p: JobProgress): void {
    this.#progress.set(job.id, { job, p });
    this.schedule();
  }

  /** Generated text: gathered per job until the flush, never coalesced away. */
  tokens(job: AssignedJob, text: string): void {
    if (!text) return;
    const entry = this.#tokens.get(job.id);
    if (entry) entry.text += text;
    else this.#tokens.set(job.id, { job, text });
    this.schedule();
  }

  log(job: AssignedJob, stream: "stdout" | "stderr", line: string): void {
    let entry = this.#logs.get(job.id);
    if (!entry) {
      entry = { job, lines: [] };
      this.#logs.set(job.id, entry);
    }
    entry.lines.push({ stream, line: truncateLogLine(line) });
    this.schedule();
  }

  /** A message that is not journaled (heartbeat), or one re-sent from the outbox. */
  send(msg: AgentToServer): void {
    this.#toSend.push(msg);
    this.schedule();
  }

  /** After `welcome`: replaces the queue with everything the outbox still holds, oldest first. */
  resendOutbox(): void {
    this.#toSend = [...this.#o.outbox.entries()];
  }

  /** Sends a request and resolves true on its ack, false on a nack, a lost link or `timeoutMs`. */
  request(msg: RequestMessage, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#pending.delete(msg.ref);
        resolve(false);
      }, timeoutMs);
      this.#pending.set(msg.ref, (ok) => {
        clearTimeout(t);
        resolve(ok);
      });
      this.send(msg);
    });
  }

  /** Settles a pending request by its ref; false when the ref is not a request (a job message). */
  settle(ref: number, ok: boolean): boolean {
    const done = this.#pending.get(ref);
    if (!done) return false;
    this.#pending.delete(ref);
    done(ok);
    return true;
  }

  /** The link is gone: unsent messages are dropped (job messages stay in the outbox), requests fail. */
  reset(): void {
    this.#toSend = [];
    for (const done of this.#pending.values()) done(false);
    this.#pending.clear();
  }

  /** Forgets a job's buffered logs and progress (the job is no longer this agent's). */
  discardJob(jobId: string): void {
    this.#logs.delete(jobId);
    this.#progress.delete(jobId);
    this.#tokens.delete(jobId);
    this.#tokenSeq.delete(jobId);
  }

  /** Moves a job's buffered logs and progress into the outbox (before its final message). */
  flushJob(jobId: string): void {
    const tokens = this.#tokens.get(jobId);
    if (tokens) {
      this.#tokens.delete(jobId);
      const epoch = tokens.job.epoch;
      const last = this.#tokenSeq.get(jobId);
      let seq = last?.epoch === epoch ? last.seq : 0;
      for (const text of splitText(tokens.text, TOKENS_TEXT_MAX)) {
        seq += 1;
        this.put({ type: "job:tokens", jobId, epoch, seq, text });
      }
      this.#tokenSeq.set(jobId, { epoch, seq });
    }
    const logs = this.#logs.get(jobId);
    if (logs) {
      this.#logs.delete(jobId);
      const epoch = logs.job.epoch;
      let lines: typeof logs.lines = [];
      let bytes = 0;
      for (const l of logs.lines) {
        const size = Buffer.byteLength(JSON.stringify(l.line)) + 30;
        if (lines.length > 0 && (lines.length >= MAX_LOG_LINES || bytes + size > MAX_LOG_MESSAGE_BYTES)) {
          this.put({ type: "job:log", jobId, epoch, lines });
          lines = [];
          bytes = 0;
        }
        lines.push(l);
        bytes += size;
      }
      if (lines.length > 0) this.put({ type: "job:log", jobId, epoch, lines });
    }
    const p = this.#progress.get(jobId);
    if (p) {
      this.#progress.delete(jobId);
      this.put({ type: "job:progress", jobId, epoch: p.job.epoch, progress: p.p });
    }
  }

  /** Flushes at the end of this event-loop turn (once, however many messages come). */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** One turn's output: buffered progress/logs → outbox, one journal write, one frame. */
  flush(): void {
    for (const id of new Set([...this.#tokens.keys(), ...this.#progress.keys(), ...this.#logs.keys()])) {
      this.flushJob(id);
    }
    this.#scheduled = false;
    this.#o.outbox.commit();
    if (this.#toSend.length === 0) return;
    const conn = this.#o.link();
    const batch = this.#toSend;
    this.#toSend = [];
    if (!conn) return; // job messages stay in the outbox for the next welcome
    const { frames, oversized } = splitFrames(batch, conn.maxFrameBytes);
    for (const frame of frames) conn.send(frame.messages, frame.json);
    for (const o of oversized) this.#o.onUnsendable(o.msg, o.bytes, conn.maxFrameBytes);
  }
}
