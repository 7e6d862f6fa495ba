/** Longest log line the wire keeps (characters); the outgoing batcher cuts longer ones with a marker. */
export const MAX_LOG_LINE = 65_536;
/** What a line costs on the wire besides its text (`{"stream":"stdout","line":""},`): the budget counts it. */
export const LINE_OVERHEAD = 32;
/**
 * Room above the budget for a limiter's own marker and summary lines: an isolated executor's lines
 * pass its child's limiter and then its thread's, and the second must let the first one's through.
 */
export const MARKER_ROOM = 1024;

/**
 * The per-job log budget: lines pass until `maxBytes` have been sent (as the wire counts them, so a
 * flood of empty lines is bounded too), then one marker line says the rest is dropped, and `push`
 * returns false so the producer can stop splitting lines at all. Memory, the outbox and the frames
 * to the server stay bounded however much a job prints.
 */
export class LogLimiter {
  readonly #maxBytes: number;
  readonly #emit: (stream: "stdout" | "stderr", line: string) => void;
  #sent = 0;
  #dropped = 0;

  constructor(maxBytes: number, emit: (stream: "stdout" | "stderr", line: string) => void) {
    this.#maxBytes = maxBytes;
    this.#emit = emit;
  }

  get full(): boolean {
    return this.#sent >= this.#maxBytes;
  }

  /** Bytes (approximately: UTF-16 units) not sent. */
  get dropped(): number {
    return this.#dropped;
  }

  push(stream: "stdout" | "stderr", line: string): boolean {
    if (this.full) {
      this.#dropped += line.length + 1;
      return false;
    }
    this.#sent += Math.min(line.length, MAX_LOG_LINE) + LINE_OVERHEAD;
    this.#emit(stream, line);
    if (this.full) {
      this.#emit("stderr", `[gantry] log truncated: ${this.#maxBytes} bytes streamed; the rest is not sent`);
    }
    return true;
  }

  /** Counts output the producer skipped itself after `push` returned false (ctx.logDropped). */
  drop(bytes: number): void {
    this.#dropped += bytes;
  }

  /** At the end of the job: one line saying how much was dropped, if anything was. */
  finish(): void {
    if (this.#dropped > 0) this.#emit("stderr", `[gantry] ${this.#dropped} more bytes of output were not streamed`);
  }
}
