import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ConflictError, GantryClient, ValidationError } from "@gantry/client";
import { CLIENT_FRAME_MAX_BYTES, type ServerToClient } from "@gantry/protocol";
import WebSocket from "ws";
import { Api } from "./helpers/api.ts";
import { post } from "./helpers/raw-agent.ts";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * The pipelined submit over the client WebSocket: per-item answers after the commit, the same checks
 * as POST /v1/jobs (schema, scope, capabilities, idempotency, rate limit), a bounded frame size, and
 * the SDK using it by default with a fallback to HTTP.
 */
let t: TestServer;
let admin: Api;

before(async () => {
  t = await testServer();
  const login = await post(`${t.server.url}/v1/auth/login`, {
    username: "admin",
    password: t.server.bootstrap.adminPassword,
  });
  admin = new Api(t.server.url, (login.body as { accessToken: string }).accessToken);
});
after(() => t.close());

/** A raw socket that collects frames; `next` waits for the first frame matching `pred`. */
async function socket(url: string, key: string) {
  const frames: ServerToClient[] = [];
  const waiters: { pred: (f: ServerToClient) => boolean; resolve: (f: ServerToClient) => void }[] = [];
  const ws = new WebSocket(`${url.replace("http", "ws")}/v1/events/ws`, {
    headers: { authorization: `Bearer ${key}` },
  });
  ws.on("message", (d) => {
    const f = JSON.parse(d.toString()) as ServerToClient;
    frames.push(f);
    for (const w of waiters.splice(0)) {
      if (w.pred(f)) w.resolve(f);
      else waiters.push(w);
    }
  });
  await new Promise((r, j) => {
    ws.once("open", r);
    ws.once("error", j);
  });
  const next = <T extends ServerToClient>(pred: (f: ServerToClient) => boolean) =>
    new Promise<T>((resolve) => {
      const seen = frames.find(pred);
      if (seen) resolve(seen as T);
      else waiters.push({ pred, resolve: resolve as (f: ServerToClient) => void });
    });
  const submit = async (ref: number, jobs: unknown[]) => {
    ws.send(JSON.stringify({ type: "submit", ref, jobs }));
    return next<Extract<ServerToClient, { type: "submitted" }>>((f) => f.type === "submitted" && f.ref === ref);
  };
  return { ws, next, submit, frames };
}

const total = async () => (await t.api.call("GET", "/v1/jobs/stats")).body.total as number;

test("a submit frame answers per item: good ones committed, bad ones refused with their own error", async () => {
  const s = await socket(t.server.url, t.server.bootstrap.clientKey);
  const before = await total();
  const r = await s.submit(1, [
    { capability: "sock.a", payload: { n: 1 } },
    { capability: "not a capability!" },
    { capability: "sock.a", idempotencyKey: "sock-k1", payload: { n: 2 } },
    { capability: "sock.a", colour: "red" },
  ]);
  assert.equal(r.results.length, 4);
  const [a, bad, keyed, extra] = r.results;
  assert.ok(a?.ok && a.created && a.job.capability === "sock.a");
  assert.ok(bad && !bad.ok && bad.error.code === "invalid_capability", JSON.stringify(bad));
  assert.ok(keyed?.ok && keyed.created);
  assert.ok(extra && !extra.ok && extra.error.code === "validation_failed");
  assert.equal(await total(), before + 2, "only the good items were created");
  assert.equal((await t.api.get(a.job.id)).status, "queued", "committed before the answer");

  // The idempotency key is honoured: a replay returns the same job; a different body under it conflicts,
  // and fails alone.
  const again = await s.submit(2, [
    { capability: "sock.a", idempotencyKey: "sock-k1", payload: { n: 2 } },
    { capability: "sock.a", idempotencyKey: "sock-k1", payload: { n: 3 } },
    { capability: "sock.b" },
  ]);
  const [replay, conflict, other] = again.results;
  assert.ok(replay?.ok && !replay.created && replay.job.id === keyed.job.id);
  assert.ok(conflict && !conflict.ok && conflict.error.code === "job_idempotency_conflict");
  assert.ok(other?.ok && other.created);
  assert.equal(await total(), before + 3);
  s.ws.close();
});

test("an oversized frame is refused with payload_too_large and changes nothing; the socket stays usable", async () => {
  const s = await socket(t.server.url, t.server.bootstrap.clientKey);
  const before = await total();
  const big = "x".repeat(CLIENT_FRAME_MAX_BYTES);
  s.ws.send(JSON.stringify({ type: "submit", ref: 7, jobs: [{ capability: "sock.a", payload: { big } }] }));
  const err = await s.next<Extract<ServerToClient, { type: "error" }>>((f) => f.type === "error");
  assert.equal(err.error.code, "payload_too_large");
  assert.equal(await total(), before);
  // More jobs than a frame may carry: the frame is refused whole.
  s.ws.send(JSON.stringify({ type: "submit", ref: 8, jobs: Array(1001).fill({ capability: "sock.a" }) }));
  const many = await s.next<Extract<ServerToClient, { type: "error" }>>(
    (f) => f.type === "error" && f.error.code === "validation_failed",
  );
  assert.equal(many.error.code, "validation_failed");
  assert.equal(await total(), before);
  const ok = await s.submit(9, [{ capability: "sock.a" }]);
  assert.ok(ok.results[0]?.ok);
  s.ws.close();
});

test("scopes and capability limits apply per item, as on POST /v1/jobs", async () => {
  const key = async (body: Record<string, unknown>) => (await admin.call("POST", "/v1/keys", body)).body.key as string;
  const readOnly = await socket(t.server.url, await key({ owner: "ro", scopes: ["jobs:read"] }));
  const r1 = await readOnly.submit(1, [{ capability: "sock.a" }]);
  assert.ok(!r1.results[0]!.ok && r1.results[0]!.error.code === "auth_forbidden");
  readOnly.ws.close();
  const llm = await socket(
    t.server.url,
    await key({ owner: "llm", scopes: ["jobs:read", "jobs:write"], capabilities: ["llm.*"] }),
  );
  const r2 = await llm.submit(1, [{ capability: "llm.chat" }, { capability: "ocr.page" }]);
  assert.ok(r2.results[0]!.ok);
  assert.ok(!r2.results[1]!.ok && r2.results[1]!.error.code === "auth_forbidden");
  llm.ws.close();
});

test("each job over the socket counts against the credential's rate limit", async () => {
  const limited = await testServer({ ...FAST, rateLimit: { max: 5, timeWindowMs: 60_000 } });
  try {
    const s = await socket(limited.server.url, limited.server.bootstrap.clientKey);
    const r = await s.submit(
      1,
      Array.from({ length: 8 }, () => ({ capability: "sock.a" })),
    );
    const codes = r.results.map((x) => (x.ok ? "ok" : x.error.code));
    assert.ok(codes.includes("ok"), codes.join());
    assert.ok(codes.includes("rate_limited"), codes.join());
    assert.ok(codes.filter((c) => c === "ok").length <= 5, codes.join());
    s.ws.close();
  } finally {
    await limited.close();
  }
});

test("the SDK submits over the socket by default, many per frame, and falls back to HTTP", async () => {
  let posts = 0;
  const counting: typeof fetch = (input, init) => {
    if (init?.method === "POST" && String(input).endsWith("/v1/jobs")) posts++;
    return fetch(input, init);
  };
  const client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey, fetch: counting });
  try {
    const jobs = await Promise.all(Array.from({ length: 50 }, (_, i) => client.submit("sock.sdk", { i })));
    assert.equal(new Set(jobs.map((j) => j.id)).size, 50);
    assert.equal(posts, 0, "no POST: every submit went over the socket");
    assert.deepEqual((await client.get(jobs[49]!.id)).payload, { i: 49 });
    // Per-item errors come back as the SDK's typed errors; the rest of the frame still succeeds.
    const [good, bad] = await Promise.allSettled([
      client.submit({ capability: "sock.sdk" }),
      client.submit({ capability: "sock.sdk", priority: 5000 }),
    ]);
    assert.equal(good.status, "fulfilled");
    assert.ok(bad.status === "rejected" && bad.reason instanceof ValidationError, String(bad));
    const k = { capability: "sock.sdk", idempotencyKey: "sdk-k" };
    const first = await client.submit(k);
    assert.equal((await client.submit(k)).id, first.id);
    await assert.rejects(client.submit({ ...k, priority: 1 }), ConflictError);
  } finally {
    client.close();
  }
  assert.equal(posts, 0);

  // No socket to be had: the same calls go over HTTP.
  class Refused {
    constructor() {
      throw new Error("no sockets here");
    }
  }
  const http = new GantryClient({
    url: t.server.url,
    apiKey: t.server.bootstrap.clientKey,
    fetch: counting,
    WebSocket: Refused as unknown as typeof globalThis.WebSocket,
  });
  try {
    const jobs = await Promise.all(Array.from({ length: 3 }, () => http.submit("sock.sdk")));
    assert.equal(jobs.length, 3);
    assert.equal(posts, 3);
  } finally {
    http.close();
  }
});
