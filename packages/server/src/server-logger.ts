import { type Logger, pino } from "pino";

/**
 * The server's one logger, made before anything else so every component can report through it;
 * Fastify logs through it too.
 */
export function createServerLogger(level: string): Logger {
  return pino({
    level,
    // Never log credentials: the Authorization header, and ?token= in URLs (browsers' WebSocket
    // and EventSource cannot send headers), which the default request serializer would print.
    redact: ["req.headers.authorization"],
    serializers: {
      req: (req: { method: string; url: string; hostname?: string; ip?: string }) => ({
        method: req.method,
        url: req.url.replace(/([?&]token=)[^&]*/g, "$1[redacted]"),
        hostname: req.hostname,
        remoteAddress: req.ip,
      }),
    },
  });
}
