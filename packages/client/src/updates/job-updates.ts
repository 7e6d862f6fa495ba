import { type BackoffPolicy, backoffDelay, isTerminal, type Job, type JobProgress } from "@gantry/protocol";
import type { GantryClient } from "../gantry-client.ts";
import { TypedEmitter } from "../typed-emitter.ts";
import { MqttSource } from "./mqtt-source.ts";
import { PollSource } from "./poll-source.ts";
import type { EventsTransport, JobSignal, TokenChunk, UpdateSource } from "./update-source.ts";
import { WsSource } from "./ws-source.ts";

/** Callbacks for subscribeJobUpdates. They run one at a time, in the order events happened. */
export interface JobUpdateHandlers {
  /** A progress report (percent, stage, message) while the job runs. */
  onProgress?: ((progress: JobProgress, jobId: string) => void | Promise<void>) | undefined;
  /**
   * LLM tokens as they are generated (MQTT and the WebSocket; polling has none: the text is in the
   * output). Numbered per attempt; `client.llm` turns them into a lossless text stream.
   */
  onTokens?: ((tokens: TokenChunk, jobId: string) => void | Promise<void>) | undefined;
  /** Every status the transport reports (queued, assigned, running, …). */
  onStatus?: ((status: Job["status"], jobId: string) => void | Promise<void>) | undefined;
  /** Exactly once, with the full job, when it is completed, failed or cancelled (also if it already was). */
  onComplete?: ((job: Job) => void | Promise<void>) | undefined;
  /** The job could not be followed (unknown job, no credential for it); no onComplete follows. */
  onError?: ((error: Error) => void) | undefined;
}

/** A transport that could not be used, and why. */
export interface SkippedTransport {
  transport: EventsTransport;
  error: string;
}

/** Events of GantryClient itself (`client.on(…)`), named `scope:noun:verb`. */
export interface ClientEventMap {
  /**
   * The transport subscribeJobUpdates uses changed: the first connection (`previous` undefined), or
   * a move back up to a better transport after a fallback (`upgraded`).
   */
  "events:transport:changed": {
    transport: EventsTransport;
    previous: EventsTransport | undefined;
    reason: "connected" | "upgraded";
    /** The better transports that were tried and failed this time. */
    skipped: SkippedTransport[];
  };
  /** A client event listener threw; the others still ran. */
  "client:listener:failed": { error: unknown; event: string };
}

export interface JobUpdatesOptions {
  client: GantryClient;
  /** The first transport to try; later ones in mqtt → ws → poll order are the fallbacks. */
  prefer: EventsTransport;
  mqttUrl: string;
  WebSocket: typeof WebSocket | undefined;
  connectTimeoutMs: number;
  poll: BackoffPolicy;
  /** Delays between tries of the better transports after a fallback; false never moves back up. */
  upgrade: BackoffPolicy | false;
  onTransport: (transport: EventsTransport, skipped: SkippedTransport[]) => void;
}

const ORDER: readonly EventsTransport[] = ["mqtt", "ws", "poll"];

/** One live subscribeJobUpdates call. */
interface Sub {
  jobId: string;
  onSignal: (s: JobSignal) => void;
  /** Stops the current transport's watch. */
  off: (() => void) | undefined;
  /** Kept on polling because the better transport refused this job (e.g. an external broker's ACL). */
  pinned: boolean;
  /** Reads the job over HTTP and delivers what the transports may have missed. */
  resync: () => void;
}

/**
 * Follows jobs for GantryClient.subscribeJobUpdates over the first transport that connects. Each
 * subscription watches first and reads the job over HTTP second, so a job that ended before the
 * subscription still gets its onComplete, and one that ends in between is not missed.
 *
 * After a fallback the better transports are retried with the shared backoff; when one connects,
 * every subscription watches on it before leaving the old one, then re-reads its job, so nothing
 * between the two is lost. A signal equal to the last one delivered is dropped, so the overlap
 * delivers nothing twice; onComplete stays once (it is guarded per subscription).
 */
export class JobUpdates {
  readonly #o: JobUpdatesOptions;
  readonly #emitter = new TypedEmitter<ClientEventMap>((error, event) => {
    if (event !== "client:listener:failed") this.#emitter.emit("client:listener:failed", { error, event });
  });
  readonly #subs = new Set<Sub>();
  #source: Promise<UpdateSource> | undefined;
  #current: UpdateSource | undefined;
  #poll: PollSource | undefined;
  #upgradeTimer: ReturnType<typeof setTimeout> | undefined;
  #upgradeAttempt = 0;
  #closed = false;

  constructor(opts: JobUpdatesOptions) {
    this.#o = opts;
  }

  on<K extends keyof ClientEventMap>(event: K, listener: (payload: ClientEventMap[K]) => void): () => void {
    return this.#emitter.on(event, listener);
  }

  /** The transport in use (connecting on first call). */
  async transport(): Promise<EventsTransport> {
    return (await this.#connect()).kind;
  }

  subscribe(jobId: string, h: JobUpdateHandlers): () => void {
    let done = false;
    let chain: Promise<void> = Promise.resolve();
    let lastProgress = "";
    let lastStatus = "";
    const run = (f: () => void | Promise<void>) => {
      chain = chain.then(f).catch(() => {});
    };
    const sub: Sub = {
      jobId,
      off: undefined,
      pinned: false,
      onSignal: () => {},
      resync: () =>
        run(async () => {
          const job = await this.#o.client.get(jobId);
          if (isTerminal(job.status)) await finish();
          else if (job.progress) await progress(job.progress);
        }),
    };
    const stop = () => {
      done = true;
      this.#subs.delete(sub);
      sub.off?.();
    };
    const progress = async (p: JobProgress) => {
      const key = JSON.stringify(p);
      if (done || key === lastProgress) return;
      lastProgress = key;
      await h.onProgress?.(p, jobId);
    };
    const finish = async () => {
      if (done) return;
      const job = await this.#o.client.get(jobId);
      if (done || !isTerminal(job.status)) return;
      stop();
      await h.onComplete?.(job);
    };
    sub.onSignal = (s: JobSignal) =>
      run(async () => {
        if (done) return;
        if (s.kind === "progress") await progress(s.progress);
        if (s.kind === "tokens") await h.onTokens?.(s.tokens, jobId);
        if (s.kind !== "status") return;
        if (s.status !== lastStatus) {
          lastStatus = s.status;
          await h.onStatus?.(s.status, jobId);
        }
        if (isTerminal(s.status)) await finish();
      });
    const start = async () => {
      let source = await this.#connect();
      try {
        sub.off = await source.watch(jobId, sub.onSignal);
      } catch {
        // The transport refused this job (e.g. an MQTT ACL on a broker we do not run): poll it.
        source = this.#pollSource();
        sub.off = await source.watch(jobId, sub.onSignal);
        sub.pinned = true;
      }
      if (done) return sub.off();
      this.#subs.add(sub);
      // Moved to a better transport while this one was connecting: follow it there too.
      if (!sub.pinned && this.#current && source !== this.#current) await this.#move(sub, this.#current);
      sub.resync();
    };
    start().catch((err: unknown) => {
      if (done) return;
      done = true;
      h.onError?.(err instanceof Error ? err : new Error(String(err)));
    });
    return stop;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#upgradeTimer);
    const s = this.#source;
    this.#source = undefined;
    this.#current = undefined;
    void s?.then(
      (x) => x.close(),
      () => {},
    );
    this.#poll?.close();
  }

  #pollSource(): PollSource {
    this.#poll ??= new PollSource(this.#o.client, this.#o.poll);
    return this.#poll;
  }

  #connect(): Promise<UpdateSource> {
    this.#source ??= (async () => {
      const skipped: SkippedTransport[] = [];
      for (const t of ORDER.slice(ORDER.indexOf(this.#o.prefer))) {
        try {
          const source = await this.#open(t);
          this.#use(source, "connected", skipped);
          return source;
        } catch (err) {
          skipped.push({ transport: t, error: err instanceof Error ? err.message : String(err) });
        }
      }
      throw new Error("no transport");
    })();
    return this.#source;
  }

  #use(source: UpdateSource, reason: "connected" | "upgraded", skipped: SkippedTransport[]): void {
    const previous = this.#current?.kind;
    this.#current = source;
    this.#o.onTransport(source.kind, skipped);
    this.#emitter.emit("events:transport:changed", { transport: source.kind, previous, reason, skipped });
    if (source.kind !== this.#o.prefer) this.#scheduleUpgrade();
  }

  /** After a fallback: try the better transports again later, with the shared backoff. */
  #scheduleUpgrade(): void {
    const policy = this.#o.upgrade;
    if (policy === false || this.#closed) return;
    clearTimeout(this.#upgradeTimer);
    const delay = backoffDelay(this.#upgradeAttempt++, policy);
    this.#upgradeTimer = setTimeout(() => void this.#tryUpgrade(), delay);
    // A pending retry must not keep a Node process alive on its own.
    (this.#upgradeTimer as { unref?: () => void }).unref?.();
  }

  async #tryUpgrade(): Promise<void> {
    const old = this.#current;
    if (!old || this.#closed) return;
    const better = ORDER.slice(ORDER.indexOf(this.#o.prefer), ORDER.indexOf(old.kind));
    const skipped: SkippedTransport[] = [];
    for (const t of better) {
      let source: UpdateSource;
      try {
        source = await this.#open(t);
      } catch (err) {
        skipped.push({ transport: t, error: err instanceof Error ? err.message : String(err) });
        continue;
      }
      if (this.#closed || this.#current !== old) {
        if (source !== this.#poll) source.close();
        return;
      }
      this.#upgradeAttempt = 0;
      this.#source = Promise.resolve(source);
      this.#use(source, "upgraded", skipped);
      await Promise.all([...this.#subs].filter((s) => !s.pinned).map((s) => this.#move(s, source)));
      // The old transport's watches are all stopped; the shared poller stays for pinned jobs.
      if (old !== this.#poll) old.close();
      return;
    }
    this.#scheduleUpgrade();
  }

  /** Watches on the new transport first, then leaves the old one, then reads the job for the gap. */
  async #move(sub: Sub, to: UpdateSource): Promise<void> {
    let off: () => void;
    try {
      off = await to.watch(sub.jobId, sub.onSignal);
    } catch {
      // Refused there (e.g. an external broker's ACL): poll this job, as a first subscription would.
      off = await this.#pollSource().watch(sub.jobId, sub.onSignal);
      sub.pinned = true;
    }
    if (!this.#subs.has(sub)) return off();
    const old = sub.off;
    sub.off = off;
    old?.();
    sub.resync();
  }

  async #open(t: EventsTransport): Promise<UpdateSource> {
    const { client, connectTimeoutMs } = this.#o;
    if (t === "mqtt") return MqttSource.connect(this.#o.mqttUrl, client.credential, connectTimeoutMs);
    if (t === "ws") {
      if (!this.#o.WebSocket) throw new Error("no WebSocket implementation");
      return WsSource.connect(client, this.#o.WebSocket, connectTimeoutMs);
    }
    return this.#pollSource();
  }
}
