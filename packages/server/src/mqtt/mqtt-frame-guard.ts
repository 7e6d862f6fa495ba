import { Transform, type TransformCallback } from "node:stream";

/**
 * Follows MQTT packet boundaries in a byte stream (fixed header: one type byte, then the remaining
 * length as a 1–4 byte varint) and fails the stream when one packet announces more than `maxBytes`,
 * before its body is read. aedes has no packet size limit of its own, and clients only ever send
 * small packets (CONNECT, SUBSCRIBE, PING, PUBACK), so this bounds what one connection can make it buffer.
 */
export class MqttFrameGuard extends Transform {
  readonly #maxBytes: number;
  /** Bytes of the current packet's body still to pass (-1: reading a fixed header). */
  #bodyLeft = -1;
  #headerByte = 0;
  #length = 0;
  #multiplier = 1;

  constructor(maxBytes: number) {
    super();
    this.#maxBytes = maxBytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= take;
        i += take;
        if (this.#bodyLeft === 0) this.#bodyLeft = -1;
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.#headerByte === 0) {
        this.#headerByte = 1;
        this.#length = 0;
        this.#multiplier = 1;
        continue;
      }
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      if (this.#length > this.#maxBytes) {
        done(new Error(`MQTT packet over ${this.#maxBytes} bytes`));
        return;
      }
      if (byte & 0x80) {
        if (this.#multiplier > 128 ** 4) {
          done(new Error("malformed MQTT remaining length"));
          return;
        }
        continue;
      }
      this.#headerByte = 0;
      this.#bodyLeft = this.#length > 0 ? this.#length : -1;
    }
    done(null, chunk);
  }
}
