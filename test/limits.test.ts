import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";
import { Api } from "./helpers/api.ts";
import { post } from "./helpers/raw-agent.ts";
import { FAST, testServer } from "./helpers/test-server.ts";

const wsUrl = (url: string, token: string) => `${url.replace("http", "ws")}/v1/events/ws?token=${token}`;
function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once("close", (code) => resolve(code)));
}
async function opened(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl(url, token));
  await new Promise((r, j) => {
    ws.once("message", r);
    ws.once("error", j);
  });
  return ws;
}

test("revoking a key, logging out or deactivating a user closes their live watch sockets and SSE streams", async () => {
  const t = await testServer({ ...FAST, credentialRecheckMs: 50 });
  try {
    const boot = t.server.bootstrap;
    const admin = new Api(
      t.server.url,
      (await post(`${t.server.url}/v1/auth/login`, { username: "admin", password: boot.adminPassword })).body
        .accessToken,
    );
    const key = (await admin.call("POST", "/v1/keys", { scopes: ["jobs:read", "jobs:write"] })).body;
    const ws = await opened(t.server.url, key.key);
    const job = await new Api(t.server.url, key.key).submit({ capability: "live.x" });
    const sse = await fetch(`${t.server.url}/v1/jobs/${job.id}/events?token=${key.key}`);
    assert.equal(sse.status, 200);
    const sseDone = sse.text();
    const closed = closeCode(ws);
    await admin.call("DELETE", `/v1/keys/${key.id}`);
    assert.equal(await closed, 4401);
    await sseDone; // the stream ends (the job is still queued, so only the revocation can end it)

    await admin.call("POST", "/v1/users", {
      username: "dave",
      password: "dave-password-1",
      permissions: ["jobs:read"],
    });
    const dave = (await post(`${t.server.url}/v1/auth/login`, { username: "dave", password: "dave-password-1" })).body;
    const ws2 = await opened(t.server.url, dave.accessToken);
    const closed2 = closeCode(ws2);
    await new Api(t.server.url, dave.accessToken).call("POST", "/v1/auth/logout");
    assert.equal(await closed2, 4401);

    const dave2 = (await post(`${t.server.url}/v1/auth/login`, { username: "dave", password: "dave-password-1" })).body;
    const ws3 = await opened(t.server.url, dave2.accessToken);
    const closed3 = closeCode(ws3);
    const daveId = (await new Api(t.server.url, dave2.accessToken).call("GET", "/v1/auth/me")).body.id;
    await admin.call("PATCH", `/v1/users/${daveId}`, { active: false });
    assert.equal(await closed3, 4401);
  } finally {
    await t.close();
  }
});

test("a credential holds at most maxStreamsPerCredential watch sockets", async () => {
  const t = await testServer({ ...FAST, maxStreamsPerCredential: 2 });
  try {
    const key = t.server.bootstrap.clientKey;
    const a = await opened(t.server.url, key);
    const b = await opened(t.server.url, key);
    const c = new WebSocket(wsUrl(t.server.url, key));
    assert.equal(await closeCode(c), 4429);
    const closedA = closeCode(a);
    a.close();
    await closedA;
    const d = await opened(t.server.url, key);
    b.close();
    d.close();
  } finally {
    await t.close();
  }
});

test("rate limits are per credential: 429 rate_limited with Retry-After; other credentials unaffected", async () => {
  const t = await testServer({ ...FAST, rateLimit: { max: 5, timeWindowMs: 60_000 } });
  try {
    const api = t.api;
    for (let i = 0; i < 5; i++) assert.equal((await api.call("GET", "/v1/jobs")).status, 200);
    const r = await fetch(`${t.server.url}/v1/jobs`, { headers: { authorization: `Bearer ${api.key}` } });
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get("retry-after")) > 0);
    const body = (await r.json()) as { error: { code: string } };
    assert.equal(body.error.code, "rate_limited");
    const other = await post(`${t.server.url}/v1/auth/login`, {
      username: "admin",
      password: t.server.bootstrap.adminPassword,
    });
    assert.equal(other.status, 200, "anonymous requests count against their address, not the key");
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
  } finally {
    await t.close();
  }
});

test("CORS: configured origins get the headers and preflights pass; others get none", async () => {
  const t = await testServer({ ...FAST, corsOrigins: ["https://app.example"] });
  try {
    const pre = await fetch(`${t.server.url}/v1/jobs`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    assert.ok(pre.status < 300);
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://app.example");
    const other = await fetch(`${t.server.url}/healthz`, { headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  } finally {
    await t.close();
  }
});

test("account routes take small bodies only: 413 payload_too_large past 16 KiB", async () => {
  const t = await testServer();
  try {
    const r = await post(`${t.server.url}/v1/auth/login`, { username: "admin", password: "x".repeat(17 * 1024) });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, "payload_too_large");
    // Job routes keep the server-wide limit.
    assert.equal(
      (await t.api.call("POST", "/v1/jobs", { capability: "big.ok", payload: "y".repeat(64 * 1024) })).status,
      201,
    );
  } finally {
    await t.close();
  }
});
