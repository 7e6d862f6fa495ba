import { type BackoffPolicy, isTerminal, type Job, type JobProgress } from "@gantry/protocol";
import type { GantryClient } from "../gantry-client.ts";
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

export interface JobUpdatesOptions {
  client: GantryClient;
  /** The first transport to try; later ones in mqtt → ws → poll order are the fallbacks. */
  prefer: EventsTransport;
  mqttUrl: string;
  WebSocket: typeof WebSocket | undefined;
  connectTimeoutMs: number;
  poll: BackoffPolicy;
  onTransport: (transport: EventsTransport, skipped: { transport: EventsTransport; error: string }[]) => void;
}

const ORDER: readonly EventsTransport[] = ["mqtt", "ws", "poll"];

/**
 * Follows jobs for GantryClient.subscribeJobUpdates over the first transport that connects. Each
 * subscription watches first and reads the job over HTTP second, so a job that ended before the
 * subscription still gets its onComplete, and one that ends in between is not missed.
 */
export class JobUpdates {
  readonly #o: JobUpdatesOptions;
  #source: Promise<UpdateSource> | undefined;
  #poll: PollSource | undefined;

  constructor(opts: JobUpdatesOptions) {
    this.#o = opts;
  }

  /** The transport in use (connecting on first call). */
  async transport(): Promise<EventsTransport> {
    return (await this.#connect()).kind;
  }

  subscribe(jobId: string, h: JobUpdateHandlers): () => void {
    let done = false;
    let off: (() => void) | undefined;
    let chain: Promise<void> = Promise.resolve();
    const run = (f: () => void | Promise<void>) => {
      chain = chain.then(f).catch(() => {});
    };
    const finish = async () => {
      if (done) return;
      const job = await this.#o.client.get(jobId);
      if (done || !isTerminal(job.status)) return;
      done = true;
      off?.();
      await h.onComplete?.(job);
    };
    const onSignal = (s: JobSignal) =>
      run(async () => {
        if (done) return;
        if (s.kind === "progress") await h.onProgress?.(s.progress, jobId);
        if (s.kind === "tokens") await h.onTokens?.(s.tokens, jobId);
        if (s.kind !== "status") return;
        await h.onStatus?.(s.status, jobId);
        if (isTerminal(s.status)) await finish();
      });
    const start = async () => {
      let source = await this.#connect();
      try {
        off = await source.watch(jobId, onSignal);
      } catch {
        // The transport refused this job (e.g. an MQTT ACL on a broker we do not run): poll it.
        source = this.#pollSource();
        off = await source.watch(jobId, onSignal);
      }
      if (done) return off();
      run(async () => {
        const job = await this.#o.client.get(jobId);
        if (isTerminal(job.status)) await finish();
        else if (job.progress && !done) await h.onProgress?.(job.progress, jobId);
      });
    };
    start().catch((err: unknown) => {
      if (done) return;
      done = true;
      h.onError?.(err instanceof Error ? err : new Error(String(err)));
    });
    return () => {
      done = true;
      off?.();
    };
  }

  close(): void {
    const s = this.#source;
    this.#source = undefined;
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
      const skipped: { transport: EventsTransport; error: string }[] = [];
      for (const t of ORDER.slice(ORDER.indexOf(this.#o.prefer))) {
        try {
          const source = await this.#open(t);
          this.#o.onTransport(t, skipped);
          return source;
        } catch (err) {
          skipped.push({ transport: t, error: err instanceof Error ? err.message : String(err) });
        }
      }
      throw new Error("no transport");
    })();
    return this.#source;
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
