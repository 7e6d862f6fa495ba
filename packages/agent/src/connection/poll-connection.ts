import { AgentMessagesResponse, type AgentToServer, NextJobsResponse, type ServerToAgent } from "@gantry/protocol";
import type { Connection, ConnectionHandlers } from "./connection.ts";
import { CLOSE_REVOKED, CLOSE_TOKEN_INVALID } from "./connection.ts";
import { CLOSE_TOO_LARGE, MAX_FRAME_MESSAGES } from "./frame-limits.ts";
import { type HttpClient, HttpError } from "./http-client.ts";

/** How many queued messages fit one POST body (at least one: the batcher never queues a bigger one). */
function takeable(queue: AgentToServer[], maxBytes: number): number {
  let bytes = 16; // {"messages":[]}
  let n = 0;
  while (n < queue.length && n < MAX_FRAME_MESSAGES) {
    bytes += Buffer.byteLength(JSON.stringify(queue[n])) + 1;
    if (n > 0 && bytes > maxBytes) break;
    n++;
  }
  return n;
}

export interface PollConnectionOptions {
  http: HttpClient;
  token: string;
  waitSecs: number;
  /** Largest POST body (frame-limits.ts). */
  maxFrameBytes: number;
  /** Free job slots right now; the poll asks for at most this many (max 100). */
  freeSlots: () => number;
  handlers: ConnectionHandlers;
}

/**
 * The long-poll transport for networks that block WebSockets. Jobs: `GET /v1/agent/jobs/next`
 * while there are free slots. Everything else: `POST /v1/agent/messages` (one in flight, batched),
 * whose replies (acks, nacks, welcome, token, pending cancels) go to the same handlers as WS frames.
 */
export function openPollConnection(o: PollConnectionOptions): Connection {
  let token = o.token;
  let closed = false;
  let posting = false;
  let polling = false;
  let isReady = false;
  const queue: AgentToServer[] = [];
  const ac = new AbortController();

  const fail = (err: unknown): void => {
    if (closed) return;
    closed = true;
    ac.abort();
    if (err instanceof HttpError && err.status === 401) o.handlers.onClose(CLOSE_TOKEN_INVALID, err.message);
    else if (err instanceof HttpError && err.code === "agent_revoked") o.handlers.onClose(CLOSE_REVOKED, err.message);
    else if (err instanceof HttpError && err.status === 413) o.handlers.onClose(CLOSE_TOO_LARGE, err.message);
    else o.handlers.onClose(1006, (err as Error).message);
  };

  const post = async (): Promise<void> => {
    if (posting || closed) return;
    posting = true;
    try {
      while (queue.length && !closed) {
        const batch = queue.splice(0, takeable(queue, o.maxFrameBytes));
        const res = await o.http.request<unknown>({
          method: "POST",
          path: "/v1/agent/messages",
          body: { messages: batch },
          token,
          signal: ac.signal,
        });
        const replies = AgentMessagesResponse.parse(res).replies as ServerToAgent[];
        if (replies.length && !closed) o.handlers.onMessages(replies);
      }
    } catch (err) {
      fail(err);
    } finally {
      posting = false;
    }
  };

  const poll = async (): Promise<void> => {
    if (polling || closed || !isReady) return;
    polling = true;
    try {
      while (!closed) {
        const max = Math.min(100, o.freeSlots());
        if (max <= 0) break; // slotsChanged() restarts the loop
        const res = await o.http.request<unknown>({
          method: "GET",
          path: `/v1/agent/jobs/next?wait=${o.waitSecs}&max=${max}`,
          token,
          signal: ac.signal,
          timeoutMs: (o.waitSecs + 30) * 1000,
        });
        const { jobs } = NextJobsResponse.parse(res);
        if (jobs.length && !closed) o.handlers.onMessages(jobs.map((job) => ({ type: "job:assign", job })));
      }
    } catch (err) {
      fail(err);
    } finally {
      polling = false;
    }
  };

  queueMicrotask(() => {
    if (!closed) o.handlers.onOpen();
  });

  return {
    kind: "poll",
    maxFrameBytes: o.maxFrameBytes,
    send(messages) {
      if (closed || messages.length === 0) return;
      queue.push(...messages);
      void post();
    },
    ready() {
      isReady = true;
      void poll();
    },
    slotsChanged() {
      void poll();
    },
    setToken(t) {
      token = t;
    },
    close() {
      if (closed) return;
      closed = true;
      ac.abort();
      o.handlers.onClose(1000, "closed by agent");
    },
  };
}
