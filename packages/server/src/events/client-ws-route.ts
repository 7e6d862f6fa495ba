import {
  CLIENT_FRAME_MAX_BYTES,
  CLIENT_PROTOCOL_VERSION,
  ClientToServer,
  GantryError,
  type JobEvent,
  type ServerToClient,
} from "@gantry/protocol";
import type { FastifyPluginAsync } from "fastify";
import { canSeeJob } from "../auth/job-access.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import { submitOverSocket } from "./socket-submit.ts";

/**
 * `GET /v1/events/ws`: one WebSocket watching many jobs. Each `subscribed` reply is followed by a
 * status event per job, so a watcher never misses a job that finished before it subscribed.
 */
export const clientWsRoutes: FastifyPluginAsync<{ ctx: GantryContext }> = async (app, { ctx }) => {
  // The HTTP routes' limiter (same buckets): each job submitted over the socket counts as one request.
  const limiter = app.hasDecorator("createRateLimit") ? app.createRateLimit() : null;
  app.get(
    "/v1/events/ws",
    // Browsers' WebSocket cannot send headers.
    { websocket: true, config: { queryToken: true }, preHandler: requireScope(ctx.principals, "jobs:read") },
    (socket, request) => {
      const principal = principalOf(request);
      let release: () => void;
      try {
        // A revoked or expired key, a logout or a deactivated user closes the socket (4401).
        release = ctx.streams.open(principal, () => socket.close(4401, "credential revoked or expired"));
      } catch (err) {
        socket.close(4429, err instanceof Error ? err.message.slice(0, 120) : "too many streams");
        return;
      }
      const subs = new Map<string, () => void>();
      const send = (m: ServerToClient) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(m));
      const onEvent = (event: JobEvent) => send({ type: "event", event });
      send({ type: "hello", protocolVersion: CLIENT_PROTOCOL_VERSION });
      socket.on("message", async (data: Buffer) => {
        if (data.length > CLIENT_FRAME_MAX_BYTES) {
          const tooLarge = new GantryError(
            "payload_too_large",
            `A client frame may be at most ${CLIENT_FRAME_MAX_BYTES} bytes; this one is ${data.length}.`,
          );
          return send({ type: "error", error: tooLarge.toEnvelope().error });
        }
        let msg: ClientToServer;
        try {
          msg = ClientToServer.parse(JSON.parse(data.toString()));
        } catch (err) {
          const message = err instanceof SyntaxError ? "frame is not JSON" : "frame does not match the protocol";
          return send({ type: "error", error: new GantryError("validation_failed", message).toEnvelope().error });
        }
        if (msg.type === "submit") {
          const results = await submitOverSocket(ctx, principal, request, limiter, msg.jobs);
          return send({ type: "submitted", ref: msg.ref, results });
        }
        if (msg.type === "unsubscribe") {
          for (const id of msg.jobIds) subs.get(id)?.();
          for (const id of msg.jobIds) subs.delete(id);
          return;
        }
        await ctx.store.barrier();
        const found: string[] = [];
        const missing: string[] = [];
        const snapshots: JobEvent[] = [];
        for (const id of msg.jobIds) {
          const job = await ctx.store.getJob(id);
          if (!job || !canSeeJob(principal, job)) {
            missing.push(id);
            continue;
          }
          found.push(id);
          if (!subs.has(id)) subs.set(id, ctx.events.subscribe(id, onEvent));
          const at = new Date().toISOString();
          snapshots.push({ type: "status", jobId: id, status: job.status, epoch: job.epoch, at });
        }
        send({ type: "subscribed", jobIds: found, missing });
        for (const e of snapshots) onEvent(e);
      });
      socket.on("close", () => {
        release();
        for (const off of subs.values()) off();
        subs.clear();
      });
    },
  );
};
