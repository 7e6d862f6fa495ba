import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import { GantryError } from "@gantry/protocol";
import type { FastifyPluginAsync } from "fastify";
import type { GantryContext } from "../context.ts";

/** The dashboard's build output in this checkout (`npm install` builds it; `npm run build -w packages/dashboard`). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL("../../../dashboard/dist/", import.meta.url));

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Gantry</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Gantry</h1><p>The server is running, but the dashboard has not been built in this checkout.</p>
<p>Build it with <code>npm install</code> (it builds on install) or <code>npm run build -w packages/dashboard</code>,
then reload. The API is at <code>/v1</code>; its description at <a href="/openapi.json">/openapi.json</a>.</p></body></html>`;

/**
 * The web dashboard: `GET /` (its page) and `GET /assets/*` (its hashed scripts and styles), nothing
 * else. The dashboard routes with the URL hash (`/#/jobs/…`), so no catch-all is needed and no API
 * path can be shadowed. Without a build, `/` says how to make one and the server runs as usual.
 * The page itself is public (it holds no data); everything it shows comes through the API.
 */
export const dashboardRoutes: FastifyPluginAsync<{ ctx: GantryContext }> = async (app, { ctx }) => {
  const root = ctx.options.dashboardDir || DEFAULT_DASHBOARD_DIR;
  const built = existsSync(join(root, "index.html"));
  await app.register(fastifyStatic, { root, serve: false, decorateReply: true, index: false });

  app.get("/", { schema: { hide: true } }, async (_request, reply) => {
    if (!built) return reply.type("text/html; charset=utf-8").send(NOT_BUILT);
    return reply.header("cache-control", "no-cache").sendFile("index.html");
  });

  app.get<{ Params: { "*": string } }>("/assets/*", { schema: { hide: true } }, async (request, reply) => {
    const name = request.params["*"];
    // Asset names are Vite's `name-hash.ext`: no folders, no dot files.
    if (!built || !/^[\w.-]+$/.test(name) || name.startsWith(".") || !existsSync(join(root, "assets", name))) {
      throw new GantryError("route_not_found", `No dashboard asset ${name}.`);
    }
    return reply.header("cache-control", "public, max-age=31536000, immutable").sendFile(join("assets", name));
  });
};
