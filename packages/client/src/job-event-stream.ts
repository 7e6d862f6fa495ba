import { isTerminal, JobEvent } from "@gantry/protocol";
import { GantryNetworkError, ProtocolError } from "./errors.ts";
import type { HttpTransport } from "./http-transport.ts";
import { SseParser } from "./sse-parser.ts";

export interface JobEventStreamOptions {
  signal?: AbortSignal | undefined;
  /** Resume after this SSE id (sent as Last-Event-ID). */
  lastEventId?: string | undefined;
  /**
   * Treat the stream as dead after this long without a byte (keep-alive comments count), so a
   * silently dropped connection cannot hang a wait forever.
   * @defaultValue 75_000
   */
  idleTimeoutMs?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 75_000;

/**
 * Follows `GET /v1/jobs/:id/events` (SSE) over a streaming fetch, yielding each JobEvent. Ends after
 * a terminal status event (closing the connection) or when the server ends the stream. Events of a
 * type this SDK does not know are skipped, so a newer server does not break an older client.
 */
export async function* streamJobEvents(
  transport: HttpTransport,
  jobId: string,
  opts: JobEventStreamOptions = {},
): AsyncGenerator<JobEvent, void, undefined> {
  const path = `/v1/jobs/${encodeURIComponent(jobId)}/events`;
  const own = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, own.signal]) : own.signal;
  const headers: Record<string, string> = { accept: "text/event-stream", "cache-control": "no-cache" };
  if (opts.lastEventId !== undefined) headers["last-event-id"] = opts.lastEventId;
  const response = await transport.stream(path, headers, signal);
  if (!response.body) throw new ProtocolError(`GET ${path} answered without a body`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let idle = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      idle = true;
      own.abort();
    }, idleMs);
  };
  try {
    for (;;) {
      armIdle();
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const why = idle ? `no data for ${idleMs} ms` : error instanceof Error ? error.message : String(error);
        throw new GantryNetworkError(`GET ${path} stream broke: ${why}`, idle ? "ETIMEDOUT" : undefined, {
          cause: error,
        });
      }
      if (chunk.done) {
        parser.end();
        return;
      }
      for (const message of parser.push(chunk.value)) {
        const event = decodeEvent(message.data);
        if (!event) continue;
        yield event;
        if (event.type === "status" && isTerminal(event.status)) return;
      }
    }
  } finally {
    clearTimeout(idleTimer);
    own.abort();
  }
}

function decodeEvent(data: string): JobEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = JobEvent.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
