import { StringDecoder } from "node:string_decoder";
/** A command's line without a newline is cut here (well under what the wire keeps). */
export const MAX_LINE = 16_384;

/**
 * Turns a byte stream into lines for `ctx.log`: UTF-8 safe across chunks, `\r\n` and `\n` endings,
 * and a line with no newline for too long is cut so the buffer stays bounded. Once the sink refuses
 * a line (the log budget is spent) it stops decoding and only counts bytes, so a flood costs little.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder("utf8");
  readonly #sink: (line: string) => boolean;
  readonly #onSkipped: (bytes: number) => void;
  #partial = "";
  #open = true;

  constructor(sink: (line: string) => boolean, onSkipped: (bytes: number) => void) {
    this.#sink = sink;
    this.#onSkipped = onSkipped;
  }

  push(chunk: Buffer): void {
    if (!this.#open) {
      this.#onSkipped(chunk.length);
      return;
    }
    const parts = (this.#partial + this.#decoder.write(chunk)).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const p of parts) this.#line(p);
    while (this.#open && this.#partial.length > MAX_LINE) {
      this.#line(this.#partial.slice(0, MAX_LINE));
      this.#partial = this.#partial.slice(MAX_LINE);
    }
  }

  end(): void {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = "";
    if (rest.length > 0) this.#line(rest);
  }

  #line(raw: string): void {
    if (!this.#open) {
      this.#onSkipped(Buffer.byteLength(raw) + 1);
      return;
    }
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (!this.#sink(line)) this.#open = false;
  }
}
