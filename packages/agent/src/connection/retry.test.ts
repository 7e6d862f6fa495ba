import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";
import { backoffDelay } from "@gantry/protocol";
import { HttpClient, HttpError } from "./http-client.ts";
import { isTransient, withRetry } from "./retry.ts";

const o = { baseMs: 1000, capMs: 30_000 };

test("reconnects use the shared backoff: doubles from 1 s, caps at 30 s, jitters within [step/2, step]", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, o, () => 1)),
    [1000, 2000, 4000, 8000, 16000, 30000, 30000],
  );
  assert.equal(
    backoffDelay(0, o, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(50, o, () => 0),
    15000,
  );
});

test("retryability table: 5xx, 429 and socket errors yes; other 4xx no", () => {
  assert.ok(isTransient(new HttpError(503, "unavailable", "x")));
  assert.ok(isTransient(new HttpError(429, "rate_limited", "x")));
  assert.ok(isTransient(Object.assign(new Error("connect"), { code: "ECONNREFUSED" })));
  assert.ok(!isTransient(new HttpError(401, "auth_invalid", "x")));
  assert.ok(!isTransient(new HttpError(403, "agent_revoked", "x")));
  assert.ok(isTransient(new HttpError(507, "storage_full", "x")));
});

test("withRetry retries a real 503 until it succeeds, and gives up after `tries`", async () => {
  let calls = 0;
  const server = http.createServer((_req, res) => {
    calls++;
    const ok = calls >= 3;
    res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify(ok ? { status: "ok" } : { error: { code: "unavailable", message: "starting" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const client = new HttpClient(url, { rejectUnauthorized: true });
  const fast = { baseMs: 1, capMs: 5 };
  try {
    assert.deepEqual(await withRetry(() => client.request({ method: "GET", path: "/" }), { ...fast, tries: 5 }), {
      status: "ok",
    });
    assert.equal(calls, 3);
    calls = -10;
    await assert.rejects(
      withRetry(() => client.request({ method: "GET", path: "/" }), { ...fast, tries: 2 }),
      (err: unknown) => err instanceof HttpError && err.status === 503 && err.code === "unavailable",
    );
    assert.equal(calls, -8);
  } finally {
    client.close();
    server.close();
  }
});
