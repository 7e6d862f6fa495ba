import type { Socket } from "node:net";
import { ERROR_CODES, type ErrorCode, GantryError } from "@gantry/protocol";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/** Node's HTTP parser failures, before Fastify has a request: mapped to our codes. */
function codeOf(err: NodeJS.ErrnoException): { code: ErrorCode; message?: string } {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return { code: "headers_too_large", message: "The request line and headers are larger than 16 KiB." };
    case "ERR_HTTP_REQUEST_TIMEOUT":
    case "ERR_HTTP_HEADERS_TIMEOUT":
      return { code: "request_timeout" };
    case "HPE_INVALID_URL":
      return { code: "invalid_url" };
    default:
      return { code: "validation_failed", message: "The request is not well-formed HTTP/1.1." };
  }
}

/**
 * Answers a request Node could not parse (oversized headers, timeouts, garbage) in the error
 * envelope, then closes the socket. Replaces Fastify's default, which answers in its own shape.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const { code, message } = codeOf(err);
  const body = JSON.stringify(new GantryError(code, message).toEnvelope());
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${ERROR_CODES[code].status} ${code}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

/** Fastify's routing errors (bad percent-encoding, an overlong path parameter) in the envelope. */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const code: ErrorCode =
    err.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? "uri_too_long"
      : err.code === "FST_ERR_BAD_URL"
        ? "invalid_url"
        : "validation_failed";
  void reply.status(ERROR_CODES[code].status).send(new GantryError(code).toEnvelope());
}
