import { ERROR_CODES, type ErrorCode, GantryError, isErrorCode } from "@gantry/protocol";
import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { isStorageFullError } from "../store/storage-errors.ts";

/** Fastify's own error codes mapped to ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_json",
  FST_ERR_VALIDATION: "validation_failed",
};

/**
 * The one mapping from anything thrown (ours, Fastify's, unknown) to the error envelope. Unknown
 * errors are logged and answered as internal_error without internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  // JSON only: without Fastify's text/plain parser, other media types get a clean 415.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof GantryError) {
      return reply.status(err.status).send(err.toEnvelope());
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const details = err.validation.map((v) => ({
        in: err.validationContext ?? "body",
        path: v.instancePath || "/",
        message: v.message,
      }));
      const where = err.validationContext ?? "body";
      const first = details[0];
      const message = `Invalid ${where}: ${first ? `${first.path} ${first.message}` : "does not match the schema"}.`;
      // Schemas may name a more specific registry code for an issue (e.g. invalid_capability).
      // zod keeps a custom issue's params under issue.params; the provider nests the issue under params.
      const named = err.validation.map((v) => (v.params as { params?: { code?: unknown } } | undefined)?.params?.code);
      const code = named.every((c) => c === named[0] && typeof c === "string" && isErrorCode(c))
        ? (named[0] as ErrorCode)
        : "validation_failed";
      return reply.status(ERROR_CODES[code].status).send(new GantryError(code, message, details).toEnvelope());
    }
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return reply.status(ERROR_CODES[mapped].status).send(new GantryError(mapped, err.message).toEnvelope());
    if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
      return reply
        .status(400)
        .send(new GantryError("invalid_json", `The body is not valid JSON: ${err.message}`).toEnvelope());
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(400).send(new GantryError("validation_failed", err.message).toEnvelope());
    }
    if (isStorageFullError(err)) {
      request.log.error({ err }, "write failed: storage full or not writable");
      return reply.status(507).send(new GantryError("storage_full").toEnvelope());
    }
    request.log.error({ err }, "unhandled error");
    return reply.status(500).send(new GantryError("internal_error").toEnvelope());
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send(
        new GantryError(
          "route_not_found",
          `No route ${request.method} ${request.url.split("?")[0]}; see /openapi.json.`,
        ).toEnvelope(),
      );
  });
}
