import { GantryError, isTerminal, type JobEvent, JobIdParams } from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { canSeeJob } from "../auth/job-access.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";

const KEEPALIVE_MS = 15_000;
/** Stored lines read per page when a stream resumes (lines are up to 64 KiB: at most ~6 MB a page). */
const REPLAY_PAGE = 100;
/**
 * Bytes a client may leave unread before its stream is ended. Memory stays bounded for a stalled
 * reader, and nothing is lost: it reconnects with Last-Event-ID and the gap is replayed from the store.
 */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

/** `Last-Event-ID` as a log sequence number, or undefined when absent or not one of ours. */
function lastEventId(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || !/^\d{1,15}$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/**
 * `GET /v1/jobs/:id/events`: Server-Sent Events for one job. Opens with the current status (and
 * progress), then live events; ends after a terminal status. Log events carry their sequence number
 * as the SSE id; a client that reconnects with `Last-Event-ID: n` first gets the stored lines after
 * n, then live ones, so a reconnect loses and repeats nothing. Other events carry no id (the
 * client's last id stays the last log line's).
 */
export const sseRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.get(
    "/v1/jobs/:id/events",
    {
      preHandler: requireScope(ctx.principals, "jobs:read"),
      // EventSource cannot send headers.
      config: { queryToken: true },
      schema: {
        summary: "Follow a job's events (text/event-stream; resumes after Last-Event-ID)",
        params: JobIdParams,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const id = request.params.id;
      const resumeAfter = lastEventId(request.headers["last-event-id"]);
      // Subscribe before reading the snapshot so nothing between the two is lost.
      const buffered: JobEvent[] = [];
      // Held until the snapshot (and any replay) is out; past the unread bound they are dropped and
      // the stream ends after the replay: the client resumes from its last id and loses nothing.
      let bufferedBytes = 0;
      let overflow = false;
      let write: (e: JobEvent) => void = (e) => {
        if (overflow) return;
        bufferedBytes += e.type === "log" ? e.line.length + 100 : e.type === "tokens" ? e.text.length + 150 : 200;
        if (bufferedBytes > MAX_UNREAD_BYTES) {
          overflow = true;
          buffered.length = 0;
        } else buffered.push(e);
      };
      const unsubscribe = ctx.events.subscribe(id, (e) => write(e));
      await ctx.store.barrier();
      const job = await ctx.store.getJob(id);
      if (!job || !canSeeJob(principal, job)) {
        unsubscribe();
        throw new GantryError("job_not_found");
      }
      let release: () => void;
      try {
        release = ctx.streams.open(principal, () => end());
      } catch (err) {
        unsubscribe();
        throw err;
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      let ended = false;
      /** The highest log seq written: live lines at or below it were replayed already. */
      let lastSeq = resumeAfter ?? 0;
      const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(keepalive);
        unsubscribe();
        release();
        res.end();
      };
      request.raw.on("close", end);
      /** Writes one event; live ones (not paced by us) end the stream once the reader is too far behind. */
      const send = (e: JobEvent, live = true) => {
        if (ended) return;
        if (e.type === "log") {
          if (resumeAfter !== undefined && e.seq <= lastSeq) return;
          lastSeq = Math.max(lastSeq, e.seq);
        }
        res.write(`${e.type === "log" ? `id: ${e.seq}\n` : ""}event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        if (e.type === "status" && isTerminal(e.status)) end();
        else if (live && res.writableLength > MAX_UNREAD_BYTES) end();
      };
      if (resumeAfter !== undefined) {
        // The stored lines after the client's last id, page by page, paced by the reader: the
        // backlog is never buffered here, however long it is.
        for (;;) {
          const page = await ctx.store.getLogs(id, lastSeq, REPLAY_PAGE);
          for (const r of page) {
            const at = new Date(r.ts).toISOString();
            send({ type: "log", jobId: id, seq: r.seq, stream: r.stream, line: r.line, at }, false);
            if (res.writableNeedDrain && !ended) {
              await new Promise((r) => {
                res.once("drain", r);
                res.once("close", r);
              });
            }
          }
          if (ended || page.length < REPLAY_PAGE) break;
        }
      }
      if (overflow) {
        end();
        return;
      }
      write = send;
      const at = new Date().toISOString();
      if (job.progress && !isTerminal(job.status)) send({ type: "progress", jobId: id, progress: job.progress, at });
      send({ type: "status", jobId: id, status: job.status, epoch: job.epoch, at });
      for (const e of buffered) send(e);
    },
  );
};
