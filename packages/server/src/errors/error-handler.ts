import { type ErrorCode, type ErrorEnvelope, GantryError, isErrorCode } from "@gantry/protocol";
import type { FastifyError, FastifyInstance, FastifyRequest } from "fastify";
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
    const { status, envelope } = errorEnvelopeOf(err, request);
    return reply.status(status).send(envelope);
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

/** Anything thrown, as the status and error envelope it is answered with (logged when unexpected). */
export function errorEnvelopeOf(
  err: FastifyError,
  request: FastifyRequest,
): { status: number; envelope: ErrorEnvelope } {
  const answer = (e: GantryError) => ({ status: e.status, envelope: e.toEnvelope() });
  if (err instanceof GantryError) return answer(err);
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
    return answer(new GantryError(code, message, details));
  }
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped) return answer(new GantryError(mapped, err.message));
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
    return answer(new GantryError("invalid_json", `The body is not valid JSON: ${err.message}`));
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: 400, envelope: new GantryError("validation_failed", err.message).toEnvelope() };
  }
  if (isStorageFullError(err)) {
    request.log.error({ err }, "write failed: storage full or not writable");
    return answer(new GantryError("storage_full"));
  }
  request.log.error({ err }, "unhandled error");
  return answer(new GantryError("internal_error"));
}
