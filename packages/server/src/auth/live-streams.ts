import { GantryError } from "@gantry/protocol";
import type { Principal, Principals } from "./principals.ts";

/** setTimeout's longest delay; a credential ending later is caught by the periodic re-check instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Long-lived client connections (the watch WebSocket, SSE, MQTT sessions on the embedded broker): at
 * most `maxPerCredential` open per credential, and each re-checks its credential every `recheckMs`
 * against the store, so a revoked or expired key, a logout or a deactivated user closes it within
 * that time, on every replica. A revocation announced on the cluster bus re-checks the principal's
 * connections at once (`recheck`), wherever they are.
 */
export class LiveStreams {
  readonly #principals: Principals;
  readonly #recheckMs: number;
  readonly #max: number;
  readonly #open = new Map<string, number>();
  /** Principal id → the re-checks of its open connections. */
  readonly #checks = new Map<string, Set<() => void>>();

  constructor(principals: Principals, opts: { recheckMs: number; maxPerCredential: number }) {
    this.#principals = principals;
    this.#recheckMs = opts.recheckMs;
    this.#max = opts.maxPerCredential;
  }

  /**
   * Throws rate_limited when the credential holds too many connections; else counts one until
   * release. `onInvalid` is called once, when the credential no longer holds. With `endAtExpiry`
   * the connection also ends when the credential itself expires (the access token's `exp`, the
   * key's expiry): for connections that cannot present a renewed token, such as MQTT sessions.
   */
  open(p: Principal, onInvalid: () => void, opts: { endAtExpiry?: boolean } = {}): () => void {
    const key = `${p.kind}:${p.id}:${p.sessionId ?? ""}`;
    const n = this.#open.get(key) ?? 0;
    if (n >= this.#max) {
      throw new GantryError("rate_limited", `This credential already holds ${this.#max} open streams; close one.`);
    }
    this.#open.set(key, n + 1);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      onInvalid();
    };
    let checking = false;
    const check = () => {
      if (checking || ended) return;
      checking = true;
      this.#principals
        .stillValid(p)
        .then((ok) => {
          if (!ok) end();
        })
        .catch(() => {}) // a store hiccup is not a revocation; the next check decides
        .finally(() => {
          checking = false;
        });
    };
    const timer = setInterval(check, this.#recheckMs);
    timer.unref();
    let expiry: NodeJS.Timeout | undefined;
    if (opts.endAtExpiry && p.expiresAt != null && p.expiresAt - Date.now() < MAX_TIMER_MS) {
      expiry = setTimeout(end, Math.max(0, p.expiresAt - Date.now()));
      expiry.unref();
    }
    const checks = this.#checks.get(p.id) ?? new Set();
    checks.add(check);
    this.#checks.set(p.id, checks);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      clearTimeout(expiry);
      const set = this.#checks.get(p.id);
      set?.delete(check);
      if (set?.size === 0) this.#checks.delete(p.id);
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left <= 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }

  /** A credential of this principal (key or user) changed: its open connections re-check now. */
  recheck(principalId: string): void {
    for (const check of this.#checks.get(principalId) ?? []) check();
  }
}
