/** One server-sent event as the WHATWG spec dispatches it. */
export interface SseMessage {
  /** `event:` field; "message" when absent. */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` seen (sticky across events, as the spec says). */
  id: string | undefined;
  /** `retry:` in ms, when the event carried one. */
  retry: number | undefined;
}

/**
 * Incremental text/event-stream parser (WHATWG HTML §9.2.6). Feed decoded text in any chunking;
 * lines end with CRLF, LF or CR; `:` lines are comments (keep-alives); an event is dispatched on a
 * blank line and only if it had data.
 */
export class SseParser {
  #buffer = "";
  #event = "";
  #data: string[] = [];
  #hasData = false;
  #lastId: string | undefined;
  #retry: number | undefined;
  /** A chunk ended in CR: if the next one starts with LF, that LF belongs to the same line break. */
  #pendingCr = false;

  /** Parses a chunk and returns the events it completed. */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (this.#pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const ch = this.#buffer[i];
      if (ch !== "\n" && ch !== "\r") continue;
      const line = this.#buffer.slice(start, i);
      if (ch === "\r") {
        if (i + 1 === this.#buffer.length) this.#pendingCr = true;
        else if (this.#buffer[i + 1] === "\n") i++;
      }
      start = i + 1;
      const message = this.#line(line);
      if (message) out.push(message);
    }
    this.#buffer = this.#buffer.slice(start);
    return out;
  }

  /** End of stream: an unterminated event is discarded, as the spec says. */
  end(): void {
    this.#buffer = "";
    this.#reset();
  }

  #line(line: string): SseMessage | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#event = value;
        break;
      case "data":
        this.#data.push(value);
        this.#hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.#lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
    }
    return undefined;
  }

  #dispatch(): SseMessage | undefined {
    const message: SseMessage | undefined = this.#hasData
      ? { event: this.#event || "message", data: this.#data.join("\n"), id: this.#lastId, retry: this.#retry }
      : undefined;
    this.#reset();
    return message;
  }

  #reset(): void {
    this.#event = "";
    this.#data = [];
    this.#hasData = false;
    this.#retry = undefined;
  }
}
