import type { BackoffPolicy } from "@gantry/protocol";
import {
  type AgentView,
  CapabilitiesResponse,
  type CapabilitySummary,
  HealthResponse,
  Job,
  type JobEvent,
  JobLogsResponse,
  JobStatsResponse,
  type JobStatus,
  ListAgentsResponse,
  ListJobsResponse,
  MeResponse,
  MQTT_WS_PATH,
  type SubmitJobRequest,
  SubmitJobsBatchResponse,
} from "@gantry/protocol";
import type { z } from "zod";
import { readClientEnv } from "./client-env.ts";
import type { TokenSource } from "./credentials.ts";
import { JobCancelledError, JobFailedError, WaitTimeoutError } from "./errors.ts";
import {
  downloadJobFile,
  type FileSource,
  type JobFile,
  listJobFiles,
  type TransferOptions,
  uploadFile,
  uploadInputs,
} from "./file-transfer.ts";
import { HttpTransport } from "./http-transport.ts";
import { type JobEventStreamOptions, streamJobEvents } from "./job-event-stream.ts";
import { JobWatcher, type JobWatcherOptions } from "./job-watcher.ts";
import { type LlmHelpers, llmHelpers } from "./plugins/llm.ts";
import { type PluginHelpers, pluginHelpers } from "./plugins/plugin-helpers.ts";
import { SocketSubmitter } from "./socket-submitter.ts";
import { type ClientEventMap, type JobUpdateHandlers, JobUpdates } from "./updates/job-updates.ts";
import type { EventsTransport } from "./updates/update-source.ts";
import { type WaitOptions, waitForJob } from "./wait-for-job.ts";
import { type WaitForWorkersOptions, waitForWorkers } from "./wait-for-workers.ts";

export interface GantryClientOptions {
  /**
   * Server base URL, e.g. `http://127.0.0.1:7070`.
   * @defaultValue GANTRY_URL, else `http://127.0.0.1:7070`
   */
  url?: string | undefined;
  /**
   * A client API key (`gnt_c_…`), sent as `Authorization: Bearer`. None (a no-auth server) works too.
   * @defaultValue GANTRY_API_KEY
   */
  apiKey?: string | undefined;
  /** Alias of `token` (SessionManager's token function, or a JWT). */
  auth?: TokenSource | undefined;
  /**
   * How subscribeJobUpdates follows jobs: the first transport tried; on failure the client falls
   * back along mqtt → ws → poll and reports the one it uses through onTransport.
   * @defaultValue "mqtt"
   */
  events?: EventsTransport | undefined;
  /**
   * The MQTT broker (`ws://…/mqtt`, `mqtt://host:port`).
   * @defaultValue GANTRY_MQTT_URL, else the server's embedded broker at `<url>/mqtt` over WebSocket
   */
  mqttUrl?: string | undefined;
  /**
   * After falling back, how often to try the better transports again (exponential backoff); when one
   * connects, subscriptions move up to it (`events:transport:changed`). `false` stays on the fallback.
   * @defaultValue { baseMs: 1000, capMs: 60_000 }
   */
  upgrade?: BackoffPolicy | false | undefined;
  /** Told which transport subscribeJobUpdates uses (also after moving back up), and why better ones were skipped. */
  onTransport?:
    | ((transport: EventsTransport, skipped: { transport: EventsTransport; error: string }[]) => void)
    | undefined;
  /**
   * Submit over the client WebSocket (`/v1/events/ws`): submits made together share a frame and
   * each is answered after the server's commit. Falls back to `POST /v1/jobs` when no socket can be
   * opened; a submit with files, or with an AbortSignal, always goes over HTTP.
   * @defaultValue true when a WebSocket implementation is available
   */
  pipelineSubmits?: boolean | undefined;
  /**
   * The WebSocket constructor for the ws transport.
   * @defaultValue globalThis.WebSocket
   */
  WebSocket?: typeof WebSocket | undefined;
  /**
   * How long connecting one events transport may take before falling back.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number | undefined;
  /**
   * Polling delays for the poll transport (they double while a job does not change).
   * @defaultValue { baseMs: 250, capMs: 5000 }
   */
  poll?: BackoffPolicy | undefined;
  /** A bearer token, or a function returning a valid one (SessionManager passes one). Used when apiKey is absent. */
  token?: TokenSource | undefined;
  /**
   * The fetch implementation.
   * @defaultValue globalThis.fetch
   */
  fetch?: typeof fetch | undefined;
  /**
   * Per-request timeout in ms (for SSE: until the headers arrive).
   * @defaultValue 30_000
   */
  timeoutMs?: number | undefined;
  /**
   * Extra tries after a transient failure, for requests that are safe to repeat: GETs, and submits
   * that carry an idempotencyKey.
   * @defaultValue 3
   */
  retries?: number | undefined;
  /**
   * Delays between those tries.
   * @defaultValue { baseMs: 250, capMs: 4000 }
   */
  retryBackoff?: BackoffPolicy | undefined;
}

export const CLIENT_DEFAULTS = {
  url: "http://127.0.0.1:7070",
  events: "mqtt",
  connectTimeoutMs: 5000,
  poll: { baseMs: 250, capMs: 5000 },
  upgrade: { baseMs: 1000, capMs: 60_000 },
  timeoutMs: 30_000,
  retries: 3,
  retryBackoff: { baseMs: 250, capMs: 4000 },
} as const satisfies Required<
  Pick<
    GantryClientOptions,
    "url" | "events" | "connectTimeoutMs" | "poll" | "upgrade" | "timeoutMs" | "retries" | "retryBackoff"
  >
>;

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface ListJobsOptions extends CallOptions {
  status?: JobStatus | readonly JobStatus[] | undefined;
  /** Base capability name to filter by. */
  capability?: string | undefined;
  /** Page size (server default 50, max 500). */
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface LogsOptions extends CallOptions {
  /** Return lines with seq greater than this (0 = from the start). */
  after?: number | undefined;
  limit?: number | undefined;
}

export interface SubmitOptions extends CallOptions {
  /** Files to upload first and add to the job's inputs (each under its name, or its path's last segment). */
  files?: readonly JobFile[] | undefined;
  /** Upload progress, per file. */
  onUploadProgress?: ((file: string, p: { bytes: number; total: number | undefined }) => void) | undefined;
}

/** Options of `submit(capability, payload, options)`: the request's other fields, files, callbacks, waiting. */
export interface SubmitJobOptions
  extends SubmitOptions,
    JobUpdateHandlers,
    Omit<SubmitJobRequest, "capability" | "payload"> {
  /**
   * Resolve only when the job is finished, with the finished job (throws JobFailedError or
   * JobCancelledError unless it completed).
   * @defaultValue false
   */
  wait?: boolean | undefined;
  /** With wait: give up after this many ms (WaitTimeoutError; the job keeps running). */
  timeout?: number | undefined;
}

/** `GET /healthz` (protocol exports the schema only). */
export type Health = z.infer<typeof HealthResponse>;

const jobPath = (id: string, suffix = "") => `/v1/jobs/${encodeURIComponent(id)}${suffix}`;

/**
 * Submits and manages jobs over HTTP. Opens no socket: watching many jobs live is JobWatcher's role
 * (`client.watcher()`); wait() follows one job's SSE stream only for its own duration.
 */
export class GantryClient {
  readonly #http: HttpTransport;
  readonly #updates: JobUpdates;
  readonly #socketSubmits: SocketSubmitter | undefined;
  #transport: EventsTransport | undefined;
  /** The CL client's plugin helpers: `clipEmbedding.embedImage(path | Buffer | Blob | stream, payload?, opts?)`, … */
  readonly plugins: PluginHelpers;
  /** `llm.complete(model, prompt)`, `llm.chat(model, messages)`: jobs whose text streams as `tokens`. */
  readonly llm: LlmHelpers;

  constructor(opts: GantryClientOptions = {}) {
    const env = readClientEnv();
    const fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
    const url = (opts.url ?? env.url ?? CLIENT_DEFAULTS.url).replace(/\/+$/, "");
    this.#http = new HttpTransport({
      baseUrl: url,
      credential: opts.apiKey ?? opts.auth ?? opts.token ?? env.apiKey,
      fetch: fetchImpl,
      timeoutMs: opts.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
      retries: opts.retries ?? CLIENT_DEFAULTS.retries,
      retryBackoff: opts.retryBackoff ?? CLIENT_DEFAULTS.retryBackoff,
    });
    this.plugins = pluginHelpers(this);
    const WS = opts.WebSocket ?? globalThis.WebSocket;
    if ((opts.pipelineSubmits ?? true) && WS) {
      this.#socketSubmits = new SocketSubmitter({
        url,
        credential: this.#http.credential,
        WebSocket: WS,
        connectTimeoutMs: opts.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs,
      });
    }
    this.llm = llmHelpers(this, this.#http);
    this.#updates = new JobUpdates({
      client: this,
      prefer: opts.events ?? CLIENT_DEFAULTS.events,
      mqttUrl: opts.mqttUrl ?? env.mqttUrl ?? `${url.replace(/^http/, "ws")}${MQTT_WS_PATH}`,
      WebSocket: opts.WebSocket ?? globalThis.WebSocket,
      connectTimeoutMs: opts.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs,
      poll: opts.poll ?? CLIENT_DEFAULTS.poll,
      upgrade: opts.upgrade ?? CLIENT_DEFAULTS.upgrade,
      onTransport: (t, skipped) => {
        this.#transport = t;
        opts.onTransport?.(t, skipped);
      },
    });
  }

  /** Listens for the client's own events (`events:transport:changed`); returns the remover. */
  on<K extends keyof ClientEventMap>(event: K, listener: (payload: ClientEventMap[K]) => void): () => void {
    return this.#updates.on(event, listener);
  }

  /** The transport subscribeJobUpdates uses now (undefined before the first connection). */
  get eventsTransport(): EventsTransport | undefined {
    return this.#transport;
  }

  /** Connects the events transport now (falling back as needed) and says which one it is. */
  connectEvents(): Promise<EventsTransport> {
    return this.#updates.transport();
  }

  /**
   * Follows one job: onProgress and onStatus in order, then onComplete exactly once with the full
   * job, also when the job had already finished. Returns the unsubscribe function.
   */
  subscribeJobUpdates(id: string, handlers: JobUpdateHandlers): () => void {
    return this.#updates.subscribe(id, handlers);
  }

  /** Closes the events transport (MQTT connection, WebSocket, polls). */
  close(): void {
    this.#updates.close();
    this.#socketSubmits?.close();
  }

  /**
   * `GET /v1/capabilities`: each capability with online agents, free slots, queued jobs, attributes.
   * The server bounds the list (the busiest 500); pass `names` to ask about given ones.
   */
  async capabilities(opts: CallOptions & { names?: readonly string[] | undefined } = {}): Promise<CapabilitySummary[]> {
    const { capabilities } = await this.#http.request({
      method: "GET",
      path: "/v1/capabilities",
      query: { name: opts.names?.join(",") || undefined },
      schema: CapabilitiesResponse,
      retryable: true,
      signal: opts.signal,
    });
    return capabilities;
  }

  /** Resolves when each capability has `count` agents online; rejects with WorkerUnavailableError after `timeout`. */
  waitForWorkers(capabilities: readonly string[], opts: WaitForWorkersOptions = {}): Promise<CapabilitySummary[]> {
    return waitForWorkers(() => this.capabilities({ ...opts, names: capabilities }), capabilities, opts);
  }

  /** `GET /v1/auth/me`: who the credential is (a user or an API key) and what it may do. */
  me(opts: CallOptions = {}): Promise<MeResponse> {
    return this.#http.request({
      method: "GET",
      path: "/v1/auth/me",
      schema: MeResponse,
      retryable: true,
      signal: opts.signal,
    });
  }

  /** The server base URL, without a trailing slash. */
  get url(): string {
    return this.#http.baseUrl;
  }

  /** @internal The credential, for JobWatcher's socket (browsers cannot set headers on it). */
  get credential(): TokenSource | undefined {
    return this.#http.credential;
  }

  /**
   * `POST /v1/jobs`. Retried after transient failures only when the request has an idempotencyKey.
   * With `files`, each is uploaded first (`POST /v1/files`; the same bytes are stored once) and added
   * to the job's inputs.
   */
  submit(request: SubmitJobRequest, opts?: SubmitOptions): Promise<Job>;
  /**
   * The CL client's form: `submit("clip_embedding", {…}, {files, onProgress, onComplete, wait})`.
   * Callbacks follow the job (subscribeJobUpdates); with `wait` it resolves with the finished job.
   */
  submit(capability: string, payload?: Record<string, unknown>, opts?: SubmitJobOptions): Promise<Job>;
  async submit(
    first: SubmitJobRequest | string,
    second?: SubmitOptions | Record<string, unknown>,
    third: SubmitJobOptions = {},
  ): Promise<Job> {
    if (typeof first !== "string") return this.#submit(first, second as SubmitOptions | undefined);
    const {
      files,
      onUploadProgress,
      onProgress,
      onTokens,
      onStatus,
      onComplete,
      onError,
      wait,
      timeout,
      signal,
      ...rest
    } = third;
    const job = await this.#submit(
      { ...rest, capability: first, ...(second ? { payload: second } : {}) },
      { files, onUploadProgress, signal },
    );
    if (!wait) {
      if (onProgress || onTokens || onStatus || onComplete || onError)
        this.subscribeJobUpdates(job.id, { onProgress, onTokens, onStatus, onComplete, onError });
      return job;
    }
    return new Promise<Job>((resolve, reject) => {
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(() => {
              off();
              reject(new WaitTimeoutError(job.id, timeout, job));
            }, timeout);
      const off = this.subscribeJobUpdates(job.id, {
        onProgress,
        onTokens,
        onStatus,
        onComplete: async (done) => {
          clearTimeout(timer);
          try {
            await onComplete?.(done);
          } finally {
            if (done.status === "failed") reject(new JobFailedError(done));
            else if (done.status === "cancelled") reject(new JobCancelledError(done));
            else resolve(done);
          }
        },
        onError: (err) => {
          clearTimeout(timer);
          onError?.(err);
          reject(err);
        },
      });
    });
  }

  async #submit(request: SubmitJobRequest, opts: SubmitOptions = {}): Promise<Job> {
    let body = request;
    if (opts.files?.length) {
      const uploaded = [];
      for (const f of opts.files) {
        const name = f.name ?? (typeof f.source === "string" ? f.source.split(/[\\/]/).pop() : undefined);
        const onProgress =
          opts.onUploadProgress && name
            ? (p: { bytes: number; total: number | undefined }) => opts.onUploadProgress!(name, p)
            : undefined;
        uploaded.push(...(await uploadInputs(this.#http, [f], { signal: opts.signal, onProgress })));
      }
      body = { ...request, inputs: [...(request.inputs ?? []), ...uploaded] };
    } else if (this.#socketSubmits && !opts.signal) {
      const job = await this.#socketSubmits.submit(body);
      if (job) return job;
    }
    return this.#http.request({
      method: "POST",
      path: "/v1/jobs",
      body,
      schema: Job,
      retryable: request.idempotencyKey !== undefined,
      signal: opts.signal,
    });
  }

  /** `POST /v1/jobs/batch`: all or nothing. Retried only when every job has an idempotencyKey. */
  async submitBatch(requests: readonly SubmitJobRequest[], opts: CallOptions = {}): Promise<Job[]> {
    const { jobs } = await this.#http.request({
      method: "POST",
      path: "/v1/jobs/batch",
      body: { jobs: requests },
      schema: SubmitJobsBatchResponse,
      retryable: requests.every((r) => r.idempotencyKey !== undefined),
      signal: opts.signal,
    });
    return jobs;
  }

  get(id: string, opts: CallOptions = {}): Promise<Job> {
    return this.#http.request({ method: "GET", path: jobPath(id), schema: Job, retryable: true, signal: opts.signal });
  }

  /** `GET /v1/jobs/stats`: counts per status and capability of the jobs this credential may see. */
  stats(opts: CallOptions = {}): Promise<JobStatsResponse> {
    return this.#http.request({
      method: "GET",
      path: "/v1/jobs/stats",
      schema: JobStatsResponse,
      retryable: true,
      signal: opts.signal,
    });
  }

  /** One page of jobs, newest first as the server orders them. */
  list(opts: ListJobsOptions = {}): Promise<ListJobsResponse> {
    const status = typeof opts.status === "string" ? opts.status : opts.status?.join(",");
    return this.#http.request({
      method: "GET",
      path: "/v1/jobs",
      query: { status: status || undefined, capability: opts.capability, limit: opts.limit, cursor: opts.cursor },
      schema: ListJobsResponse,
      retryable: true,
      signal: opts.signal,
    });
  }

  /** Every job matching the filter, following nextCursor page by page. */
  async *listAll(opts: Omit<ListJobsOptions, "cursor"> = {}): AsyncGenerator<Job, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...opts, cursor });
      yield* page.jobs;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** `POST /v1/jobs/:id/cancel`. A held job stays held, with cancelRequestedAt set, until its agent stops it. */
  cancel(id: string, opts: CallOptions = {}): Promise<Job> {
    return this.#http.request({
      method: "POST",
      path: jobPath(id, "/cancel"),
      schema: Job,
      retryable: false,
      signal: opts.signal,
    });
  }

  /** `POST /v1/jobs/:id/retry`: requeue a failed or cancelled job as a new attempt. */
  retry(id: string, opts: CallOptions = {}): Promise<Job> {
    return this.#http.request({
      method: "POST",
      path: jobPath(id, "/retry"),
      schema: Job,
      retryable: false,
      signal: opts.signal,
    });
  }

  logs(id: string, opts: LogsOptions = {}): Promise<JobLogsResponse> {
    return this.#http.request({
      method: "GET",
      path: jobPath(id, "/logs"),
      query: { after: opts.after, limit: opts.limit },
      schema: JobLogsResponse,
      retryable: true,
      signal: opts.signal,
    });
  }

  /** `POST /v1/files?name=`: streams one file; resolves with its sha256, size and name. */
  uploadFile(source: FileSource, name: string, opts: TransferOptions = {}) {
    return uploadFile(this.#http, source, name, opts);
  }

  /** `GET /v1/jobs/:id/files`: the job's output files (name, size, hash). */
  listJobFiles(id: string, opts: CallOptions = {}) {
    return listJobFiles(this.#http, id, opts.signal);
  }

  /**
   * Streams one output file to the path `dest` (Node), checking its sha256 against the server's ETag;
   * a partial download never lands at `dest`.
   */
  downloadJobFile(id: string, name: string, dest: string, opts: TransferOptions = {}) {
    return downloadJobFile(this.#http, id, name, dest, opts);
  }

  async agents(opts: CallOptions = {}): Promise<AgentView[]> {
    const { agents } = await this.#http.request({
      method: "GET",
      path: "/v1/agents",
      schema: ListAgentsResponse,
      retryable: true,
      signal: opts.signal,
    });
    return agents;
  }

  health(opts: CallOptions = {}): Promise<Health> {
    return this.#http.request({
      method: "GET",
      path: "/healthz",
      schema: HealthResponse,
      retryable: true,
      signal: opts.signal,
    });
  }

  /** A job's events over SSE, ending after the terminal status event. */
  events(id: string, opts: JobEventStreamOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
    return streamJobEvents(this.#http, id, opts);
  }

  /** Waits until the job is terminal (completed, failed or cancelled) and returns the full job. */
  wait(id: string, opts: WaitOptions = {}): Promise<Job> {
    return waitForJob(this, id, opts);
  }

  /** Like wait(), but throws JobFailedError or JobCancelledError unless the job completed. */
  async waitForSuccess(id: string, opts: WaitOptions = {}): Promise<Job> {
    const job = await this.wait(id, opts);
    if (job.status === "failed") throw new JobFailedError(job);
    if (job.status === "cancelled") throw new JobCancelledError(job);
    return job;
  }

  /** A JobWatcher sharing this client's server and credential (one WebSocket for many jobs). */
  watcher(opts: Omit<JobWatcherOptions, "client"> = {}): JobWatcher {
    return new JobWatcher({ ...opts, client: this });
  }
}
