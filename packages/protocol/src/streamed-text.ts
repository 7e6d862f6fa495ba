/**
 * The text a watcher has been shown, kept whole across attempts: a retried attempt's tokens are
 * shown only past what was already sent (the same seed and settings give the same text), and the
 * output fills in whatever the stream missed.
 */
export class StreamedText {
  #sent = "";
  #epoch = -1;
  #attempt = "";
  #nextSeq = 1;

  /** The new text to show for a tokens event, or "" (a repeat, an older attempt, a gap). */
  push(e: { epoch: number; seq: number; text: string }): string {
    if (e.epoch < this.#epoch) return "";
    if (e.epoch > this.#epoch) {
      this.#epoch = e.epoch;
      this.#attempt = "";
      this.#nextSeq = 1;
    }
    if (e.seq !== this.#nextSeq) return ""; // a repeat (or a gap: the output makes it good at the end)
    this.#nextSeq += 1;
    this.#attempt += e.text;
    return this.#more(this.#attempt);
  }

  /** What the final text adds to what was shown. */
  finish(text: string): string {
    return this.#more(text);
  }

  #more(text: string): string {
    if (text.length <= this.#sent.length || !text.startsWith(this.#sent)) return "";
    const more = text.slice(this.#sent.length);
    this.#sent = text;
    return more;
  }
}
