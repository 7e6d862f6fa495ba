import { readFileSync } from "node:fs";
import type { Server as TlsServer } from "node:tls";
import swagger from "@fastify/swagger";
import websocket from "@fastify/websocket";
import { GantryError } from "@gantry/protocol";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { jsonSchemaTransform, validatorCompiler } from "fastify-type-provider-zod";
import { checkAgentCertificate } from "./agents/agent-cert-check.ts";
import { auditRoutes } from "./audit/audit-routes.ts";
import { refuseQueryTokens } from "./auth/require-scope.ts";
import { capabilitiesRoutes } from "./capabilities/capabilities-route.ts";
import type { GantryContext } from "./context.ts";
import { dashboardRoutes } from "./dashboard/dashboard-routes.ts";
import { clientErrorHandler, frameworkErrors } from "./errors/client-error-handler.ts";
import { installErrorHandler } from "./errors/error-handler.ts";
import { clientWsRoutes } from "./events/client-ws-route.ts";
import { sseRoutes } from "./events/sse-route.ts";
import { agentFileRoutes } from "./files/agent-file-routes.ts";
import { fileRoutes } from "./files/file-routes.ts";
import { jobFileRoutes } from "./files/job-file-routes.ts";
import { HTTP_LIMITS } from "./http/http-limits.ts";
import { installJsonBodyParser } from "./http/json-body-parser.ts";
import { keyRoutes } from "./keys/key-routes.ts";
import { installLimits } from "./limits/rate-limits.ts";
import { type MqttStatus, mqttPlugin } from "./mqtt/mqtt-plugin.ts";
import { openAiRoutes } from "./openai/openai-routes.ts";
import { agentHttpRoutes } from "./routes/agent-http.ts";
import { agentWsRoutes } from "./routes/agent-ws.ts";
import { agentsAdminRoutes } from "./routes/agents-admin.ts";
import { authRoutes } from "./routes/auth-routes.ts";
import { healthRoutes } from "./routes/health.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { userRoutes } from "./users/user-routes.ts";

/** The CAs client certificates may chain to: the configured one and the agent CA. */
function clientCas(caFile: string | undefined, agentCa: string | undefined): { ca?: (string | Buffer)[] } {
  const cas: (string | Buffer)[] = [];
  if (caFile) cas.push(readFileSync(caFile));
  if (agentCa) cas.push(agentCa);
  return cas.length > 0 ? { ca: cas } : {};
}

/** One route the server serves. */
export interface ServedRoute {
  method: string;
  url: string;
  websocket: boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    gantryRoutes: ServedRoute[];
  }
}

/** Assembles the Fastify app: validation from protocol schemas, the one error handler, every route plugin. */
export async function buildApp(
  ctx: GantryContext,
  mqtt: MqttStatus = { mode: "off", connectedClients: () => 0 },
): Promise<FastifyInstance> {
  const tls = ctx.options.tls;
  const limits = { ...HTTP_LIMITS, ...ctx.options.httpLimits };
  const app = Fastify({
    http: { maxHeaderSize: limits.maxHeaderBytes },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    routerOptions: { maxParamLength: limits.maxParamLength },
    clientErrorHandler,
    frameworkErrors,
    ...(tls
      ? {
          https: {
            cert: readFileSync(tls.certFile),
            key: readFileSync(tls.keyFile),
            ...clientCas(tls.caFile, ctx.agentCa?.certPem),
            // TLS 1.3 is negotiated whenever the client has it; 1.2 is the oldest accepted.
            minVersion: "TLSv1.2" as const,
            maxVersion: "TLSv1.3" as const,
            // With agentMtls, certificates are asked for but checked per route (client routes need none).
            requestCert: Boolean(tls.requireClientCert) || ctx.agentCa !== undefined,
            rejectUnauthorized: Boolean(tls.requireClientCert),
            maxHeaderSize: limits.maxHeaderBytes,
          },
        }
      : {}),
    loggerInstance: ctx.log as FastifyBaseLogger,
    logController: new LogController({
      disableRequestLogging: ctx.options.logLevel !== "debug" && ctx.options.logLevel !== "trace",
    }),
    bodyLimit: 1024 * 1024,
    // close() must not wait for open SSE streams or idle keep-alive sockets.
    forceCloseConnections: true,
  });
  // Fastify sets requestTimeout and keepAliveTimeout on the server; these two it has no option for.
  app.server.headersTimeout = limits.headersTimeoutMs;
  if (tls && ctx.agentCerts) {
    ctx.agentCerts.attach(app.server as unknown as TlsServer);
    app.addHook("onRequest", ctx.agentCerts.refuseRevoked);
  }
  (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = limits.checkIntervalMs;
  app.setValidatorCompiler(validatorCompiler);
  // Responses are built from typed code (e.g. jobView: Job), so they are serialised without a second
  // zod validation, which cost 3-4% of server CPU on 1000-job batch responses. Schemas still feed OpenAPI.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  installErrorHandler(app);
  installJsonBodyParser(app);
  app.addHook("onRequest", async (request) => {
    if (request.url.length > limits.maxUrlLength)
      throw new GantryError("uri_too_long", `The URL is longer than ${limits.maxUrlLength} characters.`);
  });
  app.addHook("onRequest", refuseQueryTokens);
  if (ctx.agentCa) app.addHook("preHandler", checkAgentCertificate);
  // Every route the app serves (HTTP and WebSocket), for the authorisation matrix test.
  const routes: ServedRoute[] = [];
  app.decorate("gantryRoutes", routes);
  app.addHook("onRoute", (r) => {
    for (const method of [r.method].flat()) {
      if (method === "HEAD" || method === "OPTIONS") continue;
      routes.push({ method, url: r.url, websocket: Boolean((r as { websocket?: boolean }).websocket) });
    }
  });
  await installLimits(app, { rateLimit: ctx.options.rateLimit, corsOrigins: ctx.options.corsOrigins });
  await app.register(swagger, {
    openapi: {
      info: { title: "Gantry", version: ctx.version, description: "Offload compute work to a fleet of machines." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
  for (const plugin of [
    healthRoutes,
    authRoutes,
    jobRoutes,
    sseRoutes,
    clientWsRoutes,
    agentHttpRoutes,
    agentWsRoutes,
    agentsAdminRoutes,
    fileRoutes,
    jobFileRoutes,
    agentFileRoutes,
    capabilitiesRoutes,
    userRoutes,
    keyRoutes,
    auditRoutes,
    dashboardRoutes,
    openAiRoutes,
  ]) {
    await app.register(plugin, { ctx });
  }
  await app.register(mqttPlugin, { ctx, status: mqtt });
  return app;
}
