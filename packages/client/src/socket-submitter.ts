import {
  CLIENT_FRAME_MAX_BYTES,
  ERROR_CODES,
  isErrorCode,
  type Job,
  ServerToClient,
  SUBMIT_BATCH_MAX,
  type SubmitJobRequest,
} from "@gantry/protocol";
import { resolveToken, type TokenSource } from "./credentials.ts";
import { errorFromEnvelope } from "./error-from-envelope.ts";
import { GantryNetworkError } from "./errors.ts";

export interface SocketSubmitterOptions {
  url: string;
  credential: TokenSource | undefined;
  WebSocket: typeof WebSocket;
  /** How long to wait for the socket to open before submitting over HTTP instead. */
  connectTimeoutMs: number;
}

interface Pending {
  body: string;
  request: SubmitJobRequest;
  resolve(job: Job): void;
  reject(err: unknown): void;
}

/** A frame's jobs stay well under the server's frame bound, so the server never has to refuse one. */
const FRAME_BUDGET_BYTES = CLIENT_FRAME_MAX_BYTES / 2;
/** After the socket failed to open, submits go over HTTP for this long before it is tried again. */
const RETRY_SOCKET_AFTER_MS = 30_000;
/**
 * An idle socket is closed after this long, so a script that submitted and is done exits (an open
 * socket would keep Node running); the next submit opens it again.
 */
const IDLE_CLOSE_MS = 1000;
const OPEN = 1;

/**
 * The SDK's pipelined submit: submits travel over one persistent WebSocket (`/v1/events/ws`, frame
 * `submit`), many per frame when they are made together (in the same tick), each acknowledged after
 * the server's commit. `submit` returns null when the socket cannot be used now (not open within
 * connectTimeoutMs, or failed recently): the caller then uses `POST /v1/jobs`.
 *
 * A socket lost with submits in flight: those with an idempotencyKey are handed back (null) to go
 * over HTTP, which the key makes safe; the others reject with GantryNetworkError, as an HTTP
 * request that failed mid-way would (the job may or may not exist).
 */
export class SocketSubmitter {
  readonly #o: SocketSubmitterOptions;
  #ws: WebSocket | undefined;
  #opening: Promise<WebSocket | null> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  #queue: Pending[] = [];
  #flushScheduled = false;
  #nextRef = 0;
  readonly #inFlight = new Map<number, Pending[]>();
  #closed = false;
  #idle: ReturnType<typeof setTimeout> | undefined;

  constructor(o: SocketSubmitterOptions) {
    this.#o = o;
  }

  /** The job, or null: submit this one over HTTP. */
  async submit(request: SubmitJobRequest): Promise<Job | null> {
    if (this.#closed || Date.now() - this.#failedAt < RETRY_SOCKET_AFTER_MS) return null;
    const body = JSON.stringify(request);
    if (body.length > FRAME_BUDGET_BYTES) return null; // HTTP answers it (and its 413 if it is too big)
    clearTimeout(this.#idle);
    const ws = this.#ws?.readyState === OPEN ? this.#ws : await this.#open();
    if (!ws) return null;
    clearTimeout(this.#idle);
    return new Promise<Job | null>((resolve, reject) => {
      this.#queue.push({
        body,
        request,
        resolve,
        reject: (err) => {
          reject(err);
          this.#closeWhenIdle();
        },
      });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // Everything submitted in this tick goes in the same frames.
        setImmediate(() => this.#flush());
      }
    }).catch((err: unknown) => {
      if (err === HANDED_BACK) return null;
      throw err;
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#idle);
    this.#ws?.close(1000, "client closed");
    this.#ws = undefined;
  }

  #flush(): void {
    this.#flushScheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN) {
      for (const p of queue) this.#lost(p);
      return;
    }
    let frame: Pending[] = [];
    let bytes = 0;
    const send = () => {
      if (frame.length === 0) return;
      const ref = this.#nextRef++;
      this.#inFlight.set(ref, frame);
      // The jobs are already JSON: splice them in rather than serialise them again.
      ws.send(`{"type":"submit","ref":${ref},"jobs":[${frame.map((p) => p.body).join(",")}]}`);
      frame = [];
      bytes = 0;
    };
    for (const p of queue) {
      if (frame.length >= SUBMIT_BATCH_MAX || bytes + p.body.length + 1 > FRAME_BUDGET_BYTES) send();
      frame.push(p);
      bytes += p.body.length + 1;
    }
    send();
  }

  #open(): Promise<WebSocket | null> {
    this.#opening ??= this.#connect().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #connect(): Promise<WebSocket | null> {
    let token: string | undefined;
    try {
      token = await resolveToken(this.#o.credential);
    } catch {
      return this.#failed();
    }
    const url = `${this.#o.url.replace(/^http/, "ws")}/v1/events/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
    let ws: WebSocket;
    try {
      ws = new this.#o.WebSocket(url);
    } catch {
      return this.#failed();
    }
    const opened = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.#o.connectTimeoutMs);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(true);
      });
      ws.addEventListener("close", () => {
        clearTimeout(timer);
        resolve(false);
      });
      ws.addEventListener("error", () => {});
    });
    if (!opened || this.#closed) {
      ws.close();
      return this.#closed ? null : this.#failed();
    }
    ws.addEventListener("message", (m) => {
      if (typeof m.data === "string") this.#onFrame(m.data);
    });
    ws.addEventListener("close", () => {
      if (this.#ws === ws) this.#ws = undefined;
      const lost = [...this.#inFlight.values()].flat();
      this.#inFlight.clear();
      for (const p of lost) this.#lost(p);
    });
    this.#ws = ws;
    return ws;
  }

  #failed(): null {
    this.#failedAt = Date.now();
    return null;
  }

  /** A submit whose answer will never come: safe to resend only with an idempotency key. */
  #lost(p: Pending): void {
    if (p.request.idempotencyKey !== undefined) p.reject(HANDED_BACK);
    else p.reject(new GantryNetworkError("the submit socket closed before the server answered; the job may exist"));
  }

  #onFrame(data: string): void {
    let frame: ServerToClient;
    try {
      const parsed = ServerToClient.safeParse(JSON.parse(data));
      if (!parsed.success) return;
      frame = parsed.data;
    } catch {
      return;
    }
    if (frame.type !== "submitted" && !(frame.type === "error" && frame.ref !== undefined)) return;
    const pending = this.#inFlight.get(frame.ref!);
    if (!pending) return;
    this.#inFlight.delete(frame.ref!);
    if (frame.type === "error") {
      for (const p of pending) p.reject(errorFromEnvelope(statusOf(frame.error.code), { error: frame.error }));
      return;
    }
    for (const [i, p] of pending.entries()) {
      const r = frame.results[i];
      if (!r) p.reject(new GantryNetworkError("the server answered fewer submits than were sent"));
      else if (r.ok) p.resolve(r.job);
      else p.reject(errorFromEnvelope(statusOf(r.error.code), { error: r.error }));
    }
    this.#closeWhenIdle();
  }

  #closeWhenIdle(): void {
    if (this.#inFlight.size > 0 || this.#queue.length > 0) return;
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      if (this.#inFlight.size > 0 || this.#queue.length > 0 || this.#opening) return;
      const ws = this.#ws;
      this.#ws = undefined;
      ws?.close(1000, "idle");
    }, IDLE_CLOSE_MS);
  }
}

/** Rejection reason meaning "send this one over HTTP"; never seen by callers. */
const HANDED_BACK = Symbol("handed back to HTTP");

function statusOf(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code].status : 500;
}
