import {
  type BackoffPolicy,
  backoffDelay,
  CLIENT_PROTOCOL_VERSION,
  type ClientToServer,
  type ErrorBody,
  isTerminal,
  type Job,
  type JobEvent,
  JobId,
  type JobProgress,
  ServerToClient,
  type WebSocketCloseAction,
  webSocketCloseAction,
} from "@gantry/protocol";
import { resolveToken } from "./credentials.ts";
import { AuthError, ForbiddenError, GantryNetworkError, JobNotFoundError } from "./errors.ts";
import type { GantryClient } from "./gantry-client.ts";
import { safeCall, TypedEmitter } from "./typed-emitter.ts";

/** Callbacks for one subscription. Errors they throw are reported as `watcher:listener:failed`. */
export interface JobHandlers {
  /** Every event of the watched jobs. */
  onEvent?: (event: JobEvent) => void | Promise<void>;
  onProgress?: (progress: JobProgress, jobId: string) => void | Promise<void>;
  /** The job reached completed, failed or cancelled; `job` is the full job fetched over HTTP. */
  onComplete?: (job: Job) => void | Promise<void>;
  /** A job is unknown to the server, its final fetch failed, or the watcher stopped for good. */
  onError?: (error: Error, jobId: string | undefined) => void | Promise<void>;
}

/** Events of the watcher itself, named `scope:noun:verb`. */
export interface WatcherEventMap {
  "watcher:connection:opened": { attempt: number };
  "watcher:connection:closed": { code: number; reason: string; action: WebSocketCloseAction };
  "watcher:connection:retrying": { attempt: number; delayMs: number };
  /** The watcher gave up (revoked or rejected credential, protocol error); it is now closed. */
  "watcher:connection:stopped": { error: Error };
  "watcher:subscription:confirmed": { jobIds: string[]; missing: string[] };
  "watcher:event:received": { event: JobEvent };
  "watcher:job:completed": { job: Job };
  "watcher:server:errored": { error: ErrorBody };
  "watcher:listener:failed": { error: unknown; event: string };
}

export interface JobWatcherOptions {
  /** Gives the server URL and credential, and fetches each finished job. */
  client: GantryClient;
  /**
   * The WebSocket constructor.
   * @defaultValue globalThis.WebSocket
   */
  WebSocket?: typeof WebSocket | undefined;
  /**
   * Delays between reconnects.
   * @defaultValue { baseMs: 500, capMs: 30_000 }
   */
  reconnect?: BackoffPolicy | undefined;
  /**
   * How long a socket may take to open before it is dropped and retried (a server that accepts the
   * connection but never answers the upgrade, e.g. one shutting down, must not stall the watcher).
   * @defaultValue 10_000
   */
  connectTimeoutMs?: number | undefined;
}

export const WATCHER_DEFAULTS = {
  reconnect: { baseMs: 500, capMs: 30_000 },
  connectTimeoutMs: 10_000,
} as const satisfies Required<Pick<JobWatcherOptions, "reconnect" | "connectTimeoutMs">>;

/**
 * idle       → connecting (first subscribe)
 * connecting → open (socket opened), waiting (socket closed or failed), closed (close())
 * open       → waiting (socket closed with a retryable code), closed (close(), or a stop code)
 * waiting    → connecting (backoff timer fired), closed (close())
 * closed     is final.
 */
export type WatcherState = "idle" | "connecting" | "open" | "waiting" | "closed";

interface Subscription {
  handlers: JobHandlers;
  jobIds: Set<string>;
}

const SUBSCRIBE_CHUNK = 10_000;
const OPEN = 1;

/**
 * Watches many jobs over one multiplexed WebSocket (`GET /v1/events/ws`). Reconnects with backoff and
 * resubscribes everything; each job's onComplete fires once, with the full job. The token goes in the
 * `?token=` query parameter because browsers cannot set headers on a WebSocket.
 */
export class JobWatcher {
  readonly #client: GantryClient;
  readonly #WebSocket: typeof WebSocket;
  readonly #reconnect: BackoffPolicy;
  readonly #emitter = new TypedEmitter<WatcherEventMap>((error, event) => {
    if (event !== "watcher:listener:failed") this.#emitter.emit("watcher:listener:failed", { error, event });
  });
  readonly #subs = new Map<string, Subscription>();
  readonly #byJob = new Map<string, Set<string>>();
  readonly #completing = new Set<string>();
  #state: WatcherState = "idle";
  #ws: WebSocket | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #connectTimeoutMs: number;
  #nextSubId = 0;

  constructor(opts: JobWatcherOptions) {
    this.#client = opts.client;
    const WS = opts.WebSocket ?? globalThis.WebSocket;
    if (!WS) throw new Error("JobWatcher needs a WebSocket implementation (pass opts.WebSocket)");
    this.#WebSocket = WS;
    this.#reconnect = opts.reconnect ?? WATCHER_DEFAULTS.reconnect;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? WATCHER_DEFAULTS.connectTimeoutMs;
  }

  get state(): WatcherState {
    return this.#state;
  }

  /** Job ids currently watched by at least one subscription. */
  get watching(): string[] {
    return [...this.#byJob.keys()];
  }

  on<K extends keyof WatcherEventMap>(event: K, listener: (payload: WatcherEventMap[K]) => void): () => void {
    return this.#emitter.on(event, listener);
  }

  off<K extends keyof WatcherEventMap>(event: K, listener: (payload: WatcherEventMap[K]) => void): void {
    this.#emitter.off(event, listener);
  }

  /** Starts watching jobs; returns a subscription id for unsubscribe(). Opens the socket on first use. */
  subscribe(jobIds: readonly string[], handlers: JobHandlers): string {
    if (this.#state === "closed") throw new Error("JobWatcher is closed");
    const id = `sub_${++this.#nextSubId}`;
    // An id that is not a ULID cannot exist; the server would refuse the whole frame for it.
    const invalid = jobIds.filter((jobId) => !JobId.safeParse(jobId).success);
    const valid = jobIds.filter((jobId) => JobId.safeParse(jobId).success);
    for (const jobId of invalid) {
      queueMicrotask(() =>
        this.#call(handlers.onError, new JobNotFoundError("job_not_found", 404, `no job ${jobId}`), jobId),
      );
    }
    if (valid.length === 0) return id;
    const fresh: string[] = [];
    this.#subs.set(id, { handlers, jobIds: new Set(valid) });
    for (const jobId of valid) {
      let set = this.#byJob.get(jobId);
      if (!set) {
        set = new Set();
        this.#byJob.set(jobId, set);
        fresh.push(jobId);
      }
      set.add(id);
    }
    if (this.#state === "idle") void this.#connect();
    else if (fresh.length > 0) this.#send("subscribe", fresh);
    return id;
  }

  unsubscribe(subscriptionId: string): void {
    const sub = this.#subs.get(subscriptionId);
    if (!sub) return;
    this.#subs.delete(subscriptionId);
    const gone = [...sub.jobIds].filter((jobId) => this.#detach(jobId, subscriptionId));
    this.#send("unsubscribe", gone);
  }

  /** Closes the socket for good; no handler is called afterwards. */
  close(): void {
    this.#state = "closed";
    clearTimeout(this.#timer);
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close(1000, "client closed");
    this.#subs.clear();
    this.#byJob.clear();
  }

  async #connect(): Promise<void> {
    this.#state = "connecting";
    let token: string | undefined;
    try {
      token = await resolveToken(this.#client.credential);
    } catch (error) {
      this.#scheduleReconnect("reconnect", error);
      return;
    }
    if (this.#state !== "connecting") return;
    const url = `${this.#client.url.replace(/^http/, "ws")}/v1/events/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
    let ws: WebSocket;
    try {
      ws = new this.#WebSocket(url);
    } catch (error) {
      this.#stop(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#ws = ws;
    // A socket still not open is dropped and retried here: its own "close" may never come (the
    // closing handshake waits on a server that does not answer).
    const openTimer = setTimeout(() => {
      if (this.#ws !== ws || ws.readyState === OPEN) return;
      this.#ws = undefined;
      ws.close();
      if (this.#state === "closed") return;
      const reason = `the socket did not open within ${this.#connectTimeoutMs} ms`;
      this.#emitter.emit("watcher:connection:closed", { code: 1006, reason, action: "reconnect" });
      this.#scheduleReconnect("reconnect", new Error(reason));
    }, this.#connectTimeoutMs);
    ws.addEventListener("open", () => {
      clearTimeout(openTimer);
      if (this.#ws !== ws) return;
      this.#state = "open";
      const attempt = this.#attempt;
      this.#attempt = 0;
      this.#emitter.emit("watcher:connection:opened", { attempt });
      this.#send("subscribe", this.watching);
    });
    ws.addEventListener("message", (message) => {
      if (this.#ws === ws && typeof message.data === "string") this.#onFrame(message.data);
    });
    ws.addEventListener("close", (event) => {
      clearTimeout(openTimer);
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      if (this.#state === "closed") return;
      const action = webSocketCloseAction(event.code);
      this.#emitter.emit("watcher:connection:closed", { code: event.code, reason: event.reason, action });
      this.#scheduleReconnect(action, undefined, event.code, event.reason);
    });
    // An "error" event is always followed by "close", which does the work.
    ws.addEventListener("error", () => {});
  }

  #scheduleReconnect(action: WebSocketCloseAction, cause?: unknown, code?: number, reason?: string): void {
    if (action === "reauth" && typeof this.#client.credential !== "function") action = "stop";
    if (action === "stop") {
      const text = reason || `the watch socket was closed with code ${code}`;
      const error =
        code === 4401
          ? new AuthError("auth_invalid", 401, text)
          : code === 4403
            ? new ForbiddenError("auth_forbidden", 403, text)
            : new GantryNetworkError(text, undefined, { cause });
      this.#stop(error);
      return;
    }
    this.#state = "waiting";
    const delayMs = action === "reauth" ? 0 : backoffDelay(this.#attempt, this.#reconnect);
    this.#attempt++;
    this.#emitter.emit("watcher:connection:retrying", { attempt: this.#attempt, delayMs });
    this.#timer = setTimeout(() => {
      if (this.#state === "waiting") void this.#connect();
    }, delayMs);
  }

  #stop(error: Error): void {
    const subs = [...this.#subs.values()];
    this.close();
    this.#emitter.emit("watcher:connection:stopped", { error });
    for (const sub of subs) this.#call(sub.handlers.onError, error, undefined);
  }

  #onFrame(data: string): void {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = ServerToClient.safeParse(json);
    if (!parsed.success) return; // a frame type from a newer server
    const frame = parsed.data;
    switch (frame.type) {
      case "hello":
        if (frame.protocolVersion !== CLIENT_PROTOCOL_VERSION) {
          this.#stop(
            new Error(`server speaks client protocol ${frame.protocolVersion}, this SDK ${CLIENT_PROTOCOL_VERSION}`),
          );
        }
        break;
      case "subscribed":
        this.#emitter.emit("watcher:subscription:confirmed", { jobIds: frame.jobIds, missing: frame.missing });
        for (const jobId of frame.missing) {
          this.#forEachSub(jobId, (sub) =>
            this.#call(sub.handlers.onError, new JobNotFoundError("job_not_found", 404, `no job ${jobId}`), jobId),
          );
          this.#forget(jobId);
        }
        break;
      case "event":
        this.#onJobEvent(frame.event);
        break;
      case "error":
        this.#emitter.emit("watcher:server:errored", { error: frame.error });
        break;
    }
  }

  #onJobEvent(event: JobEvent): void {
    this.#emitter.emit("watcher:event:received", { event });
    this.#forEachSub(event.jobId, (sub) => {
      this.#call(sub.handlers.onEvent, event);
      if (event.type === "progress") this.#call(sub.handlers.onProgress, event.progress, event.jobId);
    });
    if (event.type === "status" && isTerminal(event.status) && !this.#completing.has(event.jobId)) {
      void this.#complete(event.jobId);
    }
  }

  /** Fetches the finished job once and hands it to every subscription watching it. */
  async #complete(jobId: string): Promise<void> {
    this.#completing.add(jobId);
    try {
      const job = await this.#client.get(jobId);
      if (!isTerminal(job.status) || this.#state === "closed") return; // retried meanwhile: keep watching
      this.#emitter.emit("watcher:job:completed", { job });
      this.#forEachSub(jobId, (sub) => this.#call(sub.handlers.onComplete, job));
      this.#forget(jobId);
    } catch (error) {
      this.#forEachSub(jobId, (sub) => this.#call(sub.handlers.onError, error as Error, jobId));
    } finally {
      this.#completing.delete(jobId);
    }
  }

  #forEachSub(jobId: string, fn: (sub: Subscription) => void): void {
    for (const subId of this.#byJob.get(jobId) ?? []) {
      const sub = this.#subs.get(subId);
      if (sub) fn(sub);
    }
  }

  /** Stops watching a job in every subscription; subscriptions left empty are removed. */
  #forget(jobId: string): void {
    for (const subId of this.#byJob.get(jobId) ?? []) {
      const sub = this.#subs.get(subId);
      sub?.jobIds.delete(jobId);
      if (sub && sub.jobIds.size === 0) this.#subs.delete(subId);
    }
    if (this.#byJob.delete(jobId)) this.#send("unsubscribe", [jobId]);
  }

  /** Removes one subscription from a job; true when nobody watches the job any more. */
  #detach(jobId: string, subId: string): boolean {
    const set = this.#byJob.get(jobId);
    if (!set) return false;
    set.delete(subId);
    if (set.size > 0) return false;
    this.#byJob.delete(jobId);
    return true;
  }

  #send(type: "subscribe" | "unsubscribe", jobIds: string[]): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN || jobIds.length === 0) return;
    for (let i = 0; i < jobIds.length; i += SUBSCRIBE_CHUNK) {
      const frame: ClientToServer = { type, jobIds: jobIds.slice(i, i + SUBSCRIBE_CHUNK) };
      ws.send(JSON.stringify(frame));
    }
  }

  #call<A extends unknown[]>(fn: ((...args: A) => void | Promise<void>) | undefined, ...args: A): void {
    if (!fn) return;
    safeCall(
      (a: A) => fn(...a),
      args,
      (error) => this.#emitter.emit("watcher:listener:failed", { error, event: "handler" }),
    );
  }
}
