export {
  type BackoffPolicy,
  backoffDelay,
  RETRYABLE,
  type WebSocketCloseAction,
  webSocketCloseAction,
} from "@gantry/protocol";
export { AdminApi, type AdminApiOptions, type PageOptions } from "./admin-api.ts";
export type { ClientEnv } from "./client-env.ts";
export type { TokenSource } from "./credentials.ts";
export { errorFromEnvelope, errorFromResponse, parseRetryAfter } from "./error-from-envelope.ts";
export * from "./errors.ts";
export type { FileSource, JobFile, TransferOptions, TransferProgress } from "./file-transfer.ts";
export {
  type CallOptions,
  CLIENT_DEFAULTS,
  GantryClient,
  type GantryClientOptions,
  type Health,
  type ListJobsOptions,
  type LogsOptions,
  type SubmitJobOptions,
  type SubmitOptions,
} from "./gantry-client.ts";
export type { JobEventStreamOptions } from "./job-event-stream.ts";
export {
  type JobHandlers,
  JobWatcher,
  type JobWatcherOptions,
  WATCHER_DEFAULTS,
  type WatcherEventMap,
  type WatcherState,
} from "./job-watcher.ts";
export type { LlmCallOptions, LlmHelpers, LlmJob, LlmRun, LlmSettings } from "./plugins/llm.ts";
export type { PluginCall, PluginCallOptions, PluginHelpers, PluginJob } from "./plugins/plugin-helpers.ts";
export { isRetryableError } from "./retryable.ts";
export {
  SESSION_DEFAULTS,
  SessionManager,
  type SessionManagerOptions,
  type SessionTokens,
} from "./session-manager.ts";
export { sleep } from "./sleep.ts";
export { type SseMessage, SseParser } from "./sse-parser.ts";
export type { ClientEventMap, JobUpdateHandlers, SkippedTransport } from "./updates/job-updates.ts";
export type { EventsTransport, TokenChunk } from "./updates/update-source.ts";
export { WAIT_DEFAULTS, type WaitOptions } from "./wait-for-job.ts";
export { WAIT_FOR_WORKERS_DEFAULTS, type WaitForWorkersOptions } from "./wait-for-workers.ts";
