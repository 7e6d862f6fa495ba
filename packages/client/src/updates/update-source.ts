import type { JobProgress, JobStatus } from "@gantry/protocol";

/** What a transport tells about one job: a status, a progress report, or that something else happened. */
export type JobSignal =
  | { kind: "status"; status: JobStatus }
  | { kind: "progress"; progress: JobProgress }
  | { kind: "other" };

/** The transports a client follows jobs over, in fallback order. */
export type EventsTransport = "mqtt" | "ws" | "poll";

/**
 * One live transport. `watch` resolves once the server has accepted the subscription (so a snapshot
 * read after it misses nothing) and rejects when it refused it.
 */
export interface UpdateSource {
  readonly kind: EventsTransport;
  watch(jobId: string, onSignal: (s: JobSignal) => void): Promise<() => void>;
  close(): void;
}
