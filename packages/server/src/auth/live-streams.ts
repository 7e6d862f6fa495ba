import { GantryError } from "@gantry/protocol";
import type { Principal, Principals } from "./principals.ts";

/**
 * Long-lived client streams (the watch WebSocket, SSE): at most `maxPerCredential` open per
 * credential, and each re-checks its credential every `recheckMs` against the store, so a revoked or
 * expired key, a logout or a deactivated user closes the stream within that time, on every replica.
 */
export class LiveStreams {
  readonly #principals: Principals;
  readonly #recheckMs: number;
  readonly #max: number;
  readonly #open = new Map<string, number>();

  constructor(principals: Principals, opts: { recheckMs: number; maxPerCredential: number }) {
    this.#principals = principals;
    this.#recheckMs = opts.recheckMs;
    this.#max = opts.maxPerCredential;
  }

  /** Throws rate_limited when the credential holds too many streams; else counts one until release. */
  open(p: Principal, onInvalid: () => void): () => void {
    const key = `${p.kind}:${p.id}:${p.sessionId ?? ""}`;
    const n = this.#open.get(key) ?? 0;
    if (n >= this.#max) {
      throw new GantryError("rate_limited", `This credential already holds ${this.#max} open streams; close one.`);
    }
    this.#open.set(key, n + 1);
    let checking = false;
    const timer = setInterval(() => {
      if (checking) return;
      checking = true;
      this.#principals
        .stillValid(p)
        .then((ok) => {
          if (!ok) onInvalid();
        })
        .catch(() => {}) // a store hiccup is not a revocation; the next check decides
        .finally(() => {
          checking = false;
        });
    }, this.#recheckMs);
    timer.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left <= 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }
}
