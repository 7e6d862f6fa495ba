import type { JobProgress, JobStatus } from "@gantry/protocol";

/** One `tokens` event: generated text, numbered 1, 2, 3… within an attempt (epoch). */
export interface TokenChunk {
  epoch: number;
  seq: number;
  text: string;
}

/** What a transport tells about one job: a status, a progress report, LLM tokens, or that something else happened. */
export type JobSignal =
  | { kind: "status"; status: JobStatus }
  | { kind: "progress"; progress: JobProgress }
  | { kind: "tokens"; tokens: TokenChunk }
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
