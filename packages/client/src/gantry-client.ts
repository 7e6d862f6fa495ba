import type { BackoffPolicy } from "@gantry/protocol";
import {
  type AgentView,
  HealthResponse,
  Job,
  type JobEvent,
  JobLogsResponse,
  type JobStatus,
  ListAgentsResponse,
  ListJobsResponse,
  type SubmitJobRequest,
  SubmitJobsBatchResponse,
} from "@gantry/protocol";
import type { z } from "zod";
import type { TokenSource } from "./credentials.ts";
import { JobCancelledError, JobFailedError } from "./errors.ts";
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
import { type WaitOptions, waitForJob } from "./wait-for-job.ts";

export interface GantryClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:7070`. */
  url: string;
  /** A client API key (`gnt_c_…`), sent as `Authorization: Bearer`. */
  apiKey?: string | undefined;
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
  timeoutMs: 30_000,
  retries: 3,
  retryBackoff: { baseMs: 250, capMs: 4000 },
} as const satisfies Required<Pick<GantryClientOptions, "timeoutMs" | "retries" | "retryBackoff">>;

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
  onProgress?: ((file: string, p: { bytes: number; total: number | undefined }) => void) | undefined;
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

  constructor(opts: GantryClientOptions) {
    const fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#http = new HttpTransport({
      baseUrl: opts.url,
      credential: opts.apiKey ?? opts.token,
      fetch: fetchImpl,
      timeoutMs: opts.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
      retries: opts.retries ?? CLIENT_DEFAULTS.retries,
      retryBackoff: opts.retryBackoff ?? CLIENT_DEFAULTS.retryBackoff,
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
  async submit(request: SubmitJobRequest, opts: SubmitOptions = {}): Promise<Job> {
    let body = request;
    if (opts.files?.length) {
      const uploaded = [];
      for (const f of opts.files) {
        const name = f.name ?? (typeof f.source === "string" ? f.source.split(/[\\/]/).pop() : undefined);
        const onProgress =
          opts.onProgress && name
            ? (p: { bytes: number; total: number | undefined }) => opts.onProgress!(name, p)
            : undefined;
        uploaded.push(...(await uploadInputs(this.#http, [f], { signal: opts.signal, onProgress })));
      }
      body = { ...request, inputs: [...(request.inputs ?? []), ...uploaded] };
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
