import type { FastifyInstance } from "fastify";

/**
 * Scopes a plugin to raw bodies: any content type is accepted and left unread, so handlers stream
 * `request.raw` themselves (the 1 MiB JSON bodyLimit does not apply). A request refused before its
 * body was read gets `Connection: close`, so the server does not read (and discard) the rest of it.
 */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
  app.addHook("onSend", async (request, reply) => {
    if (reply.statusCode >= 400 && !request.raw.complete) reply.header("connection", "close");
  });
}

/** Content-Length as a number, when the client declared one. */
export function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header)) return undefined;
  return Number(header);
}
