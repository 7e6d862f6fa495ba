import { GantryError, JSON_LIMITS, jsonTextDepthExceeds } from "@gantry/protocol";
import type { FastifyInstance } from "fastify";

/** The deepest request body accepted: a payload's limit plus the levels a body wraps around it. */
export const BODY_MAX_DEPTH = JSON_LIMITS.payloadMaxDepth + JSON_LIMITS.bodyDepthAllowance;

/**
 * JSON bodies are checked for depth on the raw text, without recursion, before JSON.parse and zod
 * see them: a 100,000-deep body used to reach zod's recursive walk and come back as a 500. The rest
 * (empty bodies, __proto__ poisoning) is Fastify's own parser.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "ignore");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (jsonTextDepthExceeds(body as string, BODY_MAX_DEPTH)) {
      const err = new GantryError(
        "payload_too_deep",
        `The JSON body nests deeper than ${BODY_MAX_DEPTH} levels (payloads: ${JSON_LIMITS.payloadMaxDepth}); flatten it.`,
        { maxDepth: JSON_LIMITS.payloadMaxDepth },
      );
      done(err, undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
