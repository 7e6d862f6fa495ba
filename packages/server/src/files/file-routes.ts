import { ErrorEnvelope, FileHashParams, GantryError, UploadFileQuery, UploadFileResponse } from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { isAdmin } from "../auth/principals.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import { acceptRawBodies, declaredLength } from "./raw-body.ts";
import { sendBlob } from "./send-blob.ts";

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 413: ErrorEnvelope };

/** Client file routes: upload a file (raw body, streamed) and read back one you own. */
export const fileRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  acceptRawBodies(app);
  const write = requireScope(ctx.principals, "files:write");
  const read = requireScope(ctx.principals, "jobs:read");

  app.post(
    "/v1/files",
    {
      preHandler: write,
      schema: {
        summary: "Upload a file (the raw body, any content type); answers its sha256",
        tags: ["files"],
        querystring: UploadFileQuery,
        response: { 201: UploadFileResponse, ...errors },
      },
    },
    async (request, reply) => {
      const owner = principalOf(request).owner;
      const file = await ctx.files.upload(
        owner,
        request.query.name,
        request.raw,
        declaredLength(request.headers["content-length"]),
      );
      return reply.status(201).send(file);
    },
  );

  app.get(
    "/v1/files/:hash",
    {
      preHandler: read,
      schema: { summary: "Download a file you own, by hash", tags: ["files"], params: FileHashParams },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const file = await ctx.store.getOwnedFile(isAdmin(p) ? null : p.owner, request.params.hash);
      if (!file) throw new GantryError("file_not_found");
      return sendBlob(ctx.files.blobs, request, reply, file);
    },
  );
};
