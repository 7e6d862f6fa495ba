import type { ErrorEnvelope, OpenAiErrorBody } from "@gantry/protocol";
import type { FastifyError, FastifyInstance } from "fastify";
import { errorEnvelopeOf } from "../errors/error-handler.ts";

/** OpenAI's `type` for an HTTP status, as its SDKs and clients expect. */
function typeOf(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** The first problem's path as OpenAI's `param` (`messages.0.content`), if the envelope has one. */
function paramOf(details: unknown): string | null {
  if (!Array.isArray(details)) return null;
  const path = (details[0] as { path?: unknown } | undefined)?.path;
  if (typeof path !== "string" || path === "/") return null;
  return path.replace(/^\//, "").replaceAll("/", ".");
}

/** A Gantry error envelope in OpenAI's shape; `code` stays Gantry's registry code. */
export function openAiError(status: number, envelope: ErrorEnvelope): OpenAiErrorBody {
  const e = envelope.error;
  return { error: { message: e.message, type: typeOf(status), param: paramOf(e.details), code: e.code } };
}

/**
 * On the OpenAI-compatible routes only (this plugin's encapsulated context): the same mapping from
 * anything thrown to a status as everywhere, answered in OpenAI's error shape.
 */
export function installOpenAiErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const { status, envelope } = errorEnvelopeOf(err, request);
    return reply.status(status).send(openAiError(status, envelope));
  });
}
