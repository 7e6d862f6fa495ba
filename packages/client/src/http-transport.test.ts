import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { z } from "zod";
import { GantryNetworkError, ProtocolError, RequestTimeoutError, ServerError, ValidationError } from "./errors.ts";
import { HttpTransport } from "./http-transport.ts";

// A scripted HTTP server over a real socket: each test sets the next answers for a path.
type Answer = (req: IncomingMessage, res: ServerResponse) => void;
const script = new Map<string, Answer[]>();
const hits = new Map<string, number>();
let server: Server;
let base: string;

const json =
  (status: number, body: unknown): Answer =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };

function transport(opts: Partial<ConstructorParameters<typeof HttpTransport>[0]> = {}): HttpTransport {
  return new HttpTransport({
    baseUrl: `${base}/`,
    credential: "gnt_c_test",
    fetch: globalThis.fetch,
    timeoutMs: 2000,
    retries: 3,
    retryBackoff: { baseMs: 1, capMs: 1 },
    ...opts,
  });
}

before(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const answer = script.get(path)?.shift();
    if (answer) answer(req, res);
    else json(404, { error: { code: "route_not_found", message: "no" } })(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe("HttpTransport", () => {
  it("sends the bearer credential and query, and parses the body with the schema", async () => {
    let seen: IncomingMessage | undefined;
    script.set("/a", [
      (req, res) => {
        seen = req;
        json(200, { n: 1, extra: true })(req, res);
      },
    ]);
    const out = await transport().request({
      method: "GET",
      path: "/a",
      query: { x: "1", y: undefined },
      schema: z.object({ n: z.number() }),
      retryable: true,
    });
    assert.deepEqual(out, { n: 1 });
    assert.equal(seen?.headers.authorization, "Bearer gnt_c_test");
    assert.equal(seen?.url, "/a?x=1");
  });

  it("retries a retryable request after 503s, and surfaces the last error when tries run out", async () => {
    const unavailable = json(503, { error: { code: "unavailable", message: "restarting" } });
    script.set("/r", [unavailable, unavailable, json(200, { ok: true })]);
    hits.set("/r", 0);
    const out = await transport().request({
      method: "GET",
      path: "/r",
      schema: z.object({ ok: z.boolean() }),
      retryable: true,
    });
    assert.deepEqual(out, { ok: true });
    assert.equal(hits.get("/r"), 3);

    script.set("/r", [unavailable, unavailable, unavailable, unavailable, unavailable]);
    hits.set("/r", 0);
    await assert.rejects(
      transport().request({ method: "GET", path: "/r", schema: z.unknown(), retryable: true }),
      (e) => e instanceof ServerError && e.code === "unavailable",
    );
    assert.equal(hits.get("/r"), 4);
  });

  it("never retries a request that is not marked retryable, nor a 4xx", async () => {
    script.set("/p", [json(503, { error: { code: "unavailable", message: "x" } }), json(200, {})]);
    hits.set("/p", 0);
    await assert.rejects(
      transport().request({ method: "POST", path: "/p", body: {}, schema: z.unknown(), retryable: false }),
      ServerError,
    );
    assert.equal(hits.get("/p"), 1);
    script.set("/v", [
      json(400, { error: { code: "validation_failed", message: "bad", details: [1] } }),
      json(200, {}),
    ]);
    hits.set("/v", 0);
    await assert.rejects(
      transport().request({ method: "GET", path: "/v", schema: z.unknown(), retryable: true }),
      (e) => e instanceof ValidationError && e.message === "bad",
    );
    assert.equal(hits.get("/v"), 1);
  });

  it("raises ProtocolError for a body that does not match the schema", async () => {
    script.set("/s", [json(200, { n: "one" })]);
    await assert.rejects(
      transport().request({ method: "GET", path: "/s", schema: z.object({ n: z.number() }), retryable: false }),
      ProtocolError,
    );
  });

  it("times out a request that gets no answer", async () => {
    script.set("/slow", [() => {}]);
    await assert.rejects(
      transport({ timeoutMs: 100, retries: 0 }).request({
        method: "GET",
        path: "/slow",
        schema: z.unknown(),
        retryable: true,
      }),
      RequestTimeoutError,
    );
  });

  it("reports a refused connection with its socket code", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      transport({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 }).request({
        method: "GET",
        path: "/x",
        schema: z.unknown(),
        retryable: true,
      }),
      (e) => e instanceof GantryNetworkError && e.code === "ECONNREFUSED",
    );
  });

  it("honours an aborted signal without retrying", async () => {
    const ctl = new AbortController();
    ctl.abort(new Error("stop"));
    await assert.rejects(
      transport().request({ method: "GET", path: "/a", schema: z.unknown(), retryable: true, signal: ctl.signal }),
      /stop/,
    );
  });
});
