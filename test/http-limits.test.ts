import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ErrorEnvelope } from "@gantry/protocol";
import { rawRequest, slowClient } from "./helpers/raw-http.ts";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

// Limits that protect the server, each over a raw socket, each answered in the one envelope.
let t: TestServer;
before(async () => {
  t = await testServer({ ...FAST, httpLimits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
});
after(() => t.close());

const get = (path: string, headers = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`;

function assertEnvelope(res: { status: number; body: any }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.ok(ErrorEnvelope.safeParse(res.body).success, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
}

test("an overlong path parameter or URL is 414 uri_too_long", async () => {
  assertEnvelope(await rawRequest(t.server.url, get(`/v1/jobs/${"A".repeat(300)}`)), 414, "uri_too_long");
  assertEnvelope(await rawRequest(t.server.url, get(`/healthz?x=${"a".repeat(9000)}`)), 414, "uri_too_long");
});

test("oversized headers are 431 headers_too_large", async () => {
  const res = await rawRequest(t.server.url, get("/healthz", `X-Big: ${"b".repeat(20_000)}\r\n`));
  assertEnvelope(res, 431, "headers_too_large");
});

test("bad percent-encoding is 400 invalid_url", async () => {
  const key = t.server.bootstrap.clientKey;
  const res = await rawRequest(t.server.url, get("/v1/jobs/%E0%A4%A", `Authorization: Bearer ${key}\r\n`));
  assertEnvelope(res, 400, "invalid_url");
});

test("slow clients are cut off: headers that never end, and a body that never ends", async () => {
  const url = t.server.url;
  const slow = [
    ...Array.from({ length: 20 }, () => slowClient(url, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 200)),
    ...Array.from({ length: 5 }, () =>
      slowClient(
        url,
        "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
        200,
      ),
    ),
  ];
  // Without the timeouts these stay open for minutes; generous bound for a loaded machine.
  const cut = Promise.all(slow.map((s) => s.closed));
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("slow sockets stayed open")), 30_000));
  try {
    await Promise.race([cut, timeout]);
  } finally {
    for (const s of slow) s.socket.destroy();
  }
});

test("?token= is refused except on WebSocket and SSE routes", async () => {
  const key = t.server.bootstrap.clientKey;
  for (const path of [`/v1/jobs?token=${key}`, `/v1/agents?token=${key}`, `/v1/auth/me?token=${key}`]) {
    assertEnvelope(await rawRequest(t.server.url, get(path)), 401, "auth_required");
  }
  const job = await t.api.submit({ capability: "limits.token" });
  const sse = await fetch(`${t.server.url}/v1/jobs/${job.id}/events?token=${key}`);
  assert.equal(sse.status, 200);
  await sse.body?.cancel();
});

function nested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

test("deep JSON is 400 payload_too_deep at depth 2,000, 5,000 and 100,000, and changes nothing", async () => {
  const before = await t.api.call("GET", "/v1/jobs?capability=limits.deep");
  for (const depth of [2_000, 5_000, 100_000]) {
    const raw = `{"capability":"limits.deep","payload":${nested(depth)}}`;
    const res = await t.api.call("POST", "/v1/jobs", undefined, raw);
    assertEnvelope(res, 400, "payload_too_deep");
    const batch = await t.api.call(
      "POST",
      "/v1/jobs/batch",
      undefined,
      `{"jobs":[{"capability":"limits.deep","payload":${nested(depth)}}]}`,
    );
    assertEnvelope(batch, 400, "payload_too_deep");
  }
  // At the documented limit a payload is accepted; one level more is refused.
  assert.equal(
    (await t.api.call("POST", "/v1/jobs", undefined, `{"capability":"limits.deep","payload":${nested(64)}}`)).status,
    201,
  );
  const over = await t.api.call("POST", "/v1/jobs", undefined, `{"capability":"limits.deep","payload":${nested(65)}}`);
  assertEnvelope(over, 400, "payload_too_deep");
  const after = await t.api.call("GET", "/v1/jobs?capability=limits.deep");
  assert.equal(after.body.jobs.length, before.body.jobs.length + 1);
});

test("an oversized payload is 413 payload_too_large", async () => {
  const res = await t.api.call("POST", "/v1/jobs", { capability: "limits.big", payload: { s: "x".repeat(600_000) } });
  assertEnvelope(res, 413, "payload_too_large");
});

test("the idempotency hash ignores key order", async () => {
  const a = await t.api.call("POST", "/v1/jobs", {
    capability: "limits.idem",
    idempotencyKey: "k1",
    payload: { a: 1, b: { c: 2, d: 3 } },
  });
  const b = await t.api.call("POST", "/v1/jobs", {
    payload: { b: { d: 3, c: 2 }, a: 1 },
    idempotencyKey: "k1",
    capability: "limits.idem",
  });
  assert.ok(a.status < 300 && b.status < 300, `${a.status} ${b.status} ${JSON.stringify(b.body)}`);
  assert.equal(b.body.id, a.body.id);
  const c = await t.api.call("POST", "/v1/jobs", {
    capability: "limits.idem",
    idempotencyKey: "k1",
    payload: { a: 2 },
  });
  assertEnvelope(c, 409, "job_idempotency_conflict");
});
