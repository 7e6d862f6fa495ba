import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { Api } from "./helpers/api.ts";
import { post, type RawAgent } from "./helpers/raw-agent.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * Every route the server serves × every kind of caller, against a table of intended answers. The
 * table is keyed by the server's own route list, so a new route without an entry fails this test.
 */
const WHO = ["anon", "clientA", "clientB", "llmA", "agentX", "agentY", "admin"] as const;
type Who = (typeof WHO)[number];
/** Expected statuses, in WHO order. 101: the WebSocket upgrade succeeds. */
type Row = [number, number, number, number, number, number, number];

interface Fixture {
  t: TestServer;
  cred: Record<Who, string | undefined>;
  jobA: string;
  epoch: number;
  fileHash: string;
  agentX: string;
  adminId: string;
  keyA: string;
  admin: Api;
}
interface Case {
  expect: Row;
  /** Path with params filled in; may create a throwaway target (for destructive routes). */
  path: (f: Fixture, who: Who) => string | Promise<string>;
  body?: unknown;
  raw?: string;
  /** The credential to use instead of the caller's (e.g. a fresh admin session to log out). */
  credential?: (f: Fixture, who: Who) => Promise<string | undefined>;
}

const J = (f: Fixture) => f.jobA;
let n = 0;
const unique = () => `${Date.now().toString(36)}${++n}`;
async function freshJob(f: Fixture): Promise<string> {
  return (await new Api(f.t.server.url, f.cred.clientA!).submit({ capability: "idle.cap" })).id;
}

const TABLE: Record<string, Case> = {
  "GET /healthz": { expect: [200, 200, 200, 200, 200, 200, 200], path: () => "/healthz" },
  "POST /v1/auth/login": {
    expect: [401, 401, 401, 401, 401, 401, 401],
    path: () => "/v1/auth/login",
    body: { username: "nobody", password: "wrong-password" },
  },
  "POST /v1/auth/refresh": {
    expect: [401, 401, 401, 401, 401, 401, 401],
    path: () => "/v1/auth/refresh",
    body: { refreshToken: "gnt_r_not-a-real-one" },
  },
  "POST /v1/auth/logout": {
    expect: [401, 403, 403, 403, 401, 401, 204],
    path: () => "/v1/auth/logout",
    credential: async (f, who) => (who === "admin" ? (await adminLogin(f.t)).accessToken : f.cred[who]),
  },
  "POST /v1/auth/password": {
    expect: [401, 403, 403, 403, 401, 401, 401],
    path: () => "/v1/auth/password",
    body: { currentPassword: "not-the-password", newPassword: "a-long-new-password" },
  },
  "GET /v1/auth/me": { expect: [401, 200, 200, 200, 401, 401, 200], path: () => "/v1/auth/me" },
  "GET /v1/auth/jwks": { expect: [200, 200, 200, 200, 200, 200, 200], path: () => "/v1/auth/jwks" },
  "GET /openapi.json": { expect: [200, 200, 200, 200, 200, 200, 200], path: () => "/openapi.json" },
  // The dashboard's page and assets are public: they hold no data (everything comes through the API).
  "GET /": { expect: [200, 200, 200, 200, 200, 200, 200], path: () => "/" },
  "GET /assets/*": { expect: [404, 404, 404, 404, 404, 404, 404], path: () => "/assets/no-such-asset.js" },
  "POST /v1/jobs": {
    expect: [401, 201, 201, 403, 401, 401, 201],
    path: () => "/v1/jobs",
    body: { capability: "idle.cap" },
  },
  "GET /v1/jobs": { expect: [401, 200, 200, 200, 401, 401, 200], path: () => "/v1/jobs" },
  "GET /v1/jobs/stats": { expect: [401, 200, 200, 200, 401, 401, 200], path: () => "/v1/jobs/stats" },
  "POST /v1/jobs/batch": {
    expect: [401, 201, 201, 403, 401, 401, 201],
    path: () => "/v1/jobs/batch",
    body: { jobs: [{ capability: "idle.cap" }] },
  },
  "GET /v1/jobs/:id": { expect: [401, 200, 404, 404, 401, 401, 200], path: (f) => `/v1/jobs/${J(f)}` },
  "POST /v1/jobs/:id/cancel": {
    expect: [401, 200, 404, 404, 401, 401, 200],
    path: async (f) => `/v1/jobs/${await freshJob(f)}/cancel`,
  },
  "POST /v1/jobs/:id/retry": { expect: [401, 409, 404, 404, 401, 401, 409], path: (f) => `/v1/jobs/${J(f)}/retry` },
  "GET /v1/jobs/:id/logs": { expect: [401, 200, 404, 404, 401, 401, 200], path: (f) => `/v1/jobs/${J(f)}/logs` },
  "GET /v1/jobs/:id/events": { expect: [401, 200, 404, 404, 401, 401, 200], path: (f) => `/v1/jobs/${J(f)}/events` },
  "GET /v1/events/ws": { expect: [401, 101, 101, 101, 401, 401, 101], path: () => "/v1/events/ws" },
  "GET /v1/jobs/:id/files": { expect: [401, 200, 404, 404, 401, 401, 200], path: (f) => `/v1/jobs/${J(f)}/files` },
  "POST /v1/files": { expect: [401, 201, 201, 403, 401, 401, 201], path: () => "/v1/files?name=x.txt", raw: "bytes" },
  "GET /v1/files/:hash": { expect: [401, 200, 404, 200, 401, 401, 200], path: (f) => `/v1/files/${f.fileHash}` },
  "POST /agent/register": {
    expect: [401, 401, 401, 401, 401, 401, 401],
    path: () => "/agent/register",
    body: { apiKey: "gnt_a_not-a-real-key" },
  },
  "POST /agents": {
    expect: [401, 401, 401, 401, 401, 401, 401],
    path: () => "/agents",
    body: { apiKey: "gnt_a_nope" },
  },
  "POST /agent/auth": {
    expect: [401, 401, 401, 401, 401, 401, 401],
    path: () => "/agent/auth",
    body: { agentId: "00000000-0000-4000-8000-000000000000", key: "gnt_k_nope" },
  },
  "GET /private/agent/ping": { expect: [401, 401, 401, 401, 200, 200, 401], path: () => "/private/agent/ping" },
  // Agents are authenticated, then told to say hello over HTTP first (X speaks over its WebSocket).
  "GET /v1/agent/jobs/next": { expect: [401, 401, 401, 401, 400, 400, 401], path: () => "/v1/agent/jobs/next?wait=0" },
  "POST /v1/agent/messages": {
    expect: [401, 401, 401, 401, 400, 400, 401],
    path: () => "/v1/agent/messages",
    body: null, // filled in before() with job A's id and epoch
  },
  "PUT /v1/agent/jobs/:id/files/:name": {
    expect: [401, 401, 401, 401, 201, 409, 401],
    path: (f) => `/v1/agent/jobs/${J(f)}/files/out.txt?epoch=${f.epoch}`,
    raw: "output",
  },
  // After the PUT above: the output X uploaded is the owner's (and admins') to read.
  "GET /v1/jobs/:id/files/:name": {
    expect: [401, 200, 404, 404, 401, 401, 200],
    path: (f) => `/v1/jobs/${J(f)}/files/out.txt`,
  },
  "GET /v1/agent/jobs/:id/files/:name": {
    expect: [401, 401, 401, 401, 200, 409, 401],
    path: (f) => `/v1/agent/jobs/${J(f)}/files/in.txt?epoch=${f.epoch}`,
  },
  "GET /v1/capabilities": { expect: [401, 200, 200, 200, 401, 401, 200], path: () => "/v1/capabilities" },
  // No llm agent is online here: a caller allowed to ask gets model_not_found (OpenAI's error shape).
  "POST /v1/chat/completions": {
    expect: [401, 404, 404, 404, 401, 401, 404],
    path: () => "/v1/chat/completions",
    body: { model: "none-online", messages: [{ role: "user", content: "hi" }] },
  },
  "POST /v1/completions": {
    expect: [401, 404, 404, 404, 401, 401, 404],
    path: () => "/v1/completions",
    body: { model: "none-online", prompt: "hi" },
  },
  "POST /v1/embeddings": {
    expect: [401, 404, 404, 404, 401, 401, 404],
    path: () => "/v1/embeddings",
    body: { model: "none-online", input: "hi" },
  },
  "GET /v1/models": { expect: [401, 200, 200, 200, 401, 401, 200], path: () => "/v1/models" },
  // MQTT authenticates inside CONNECT (test/mqtt-server.test.ts checks its ACL); the upgrade is open to all.
  "GET /mqtt": { expect: [101, 101, 101, 101, 101, 101, 101], path: () => "/mqtt" },
  "GET /v1/agents": { expect: [401, 200, 200, 403, 401, 401, 200], path: () => "/v1/agents" },
  "POST /v1/agents/:id/commands": {
    expect: [401, 403, 403, 403, 401, 401, 201],
    path: (f) => `/v1/agents/${f.agentX}/commands`,
    body: { type: "diagnostics" },
  },
  "GET /v1/agents/:id/commands": {
    expect: [401, 403, 403, 403, 401, 401, 200],
    path: (f) => `/v1/agents/${f.agentX}/commands`,
  },
  "POST /v1/agents/:id/revoke": {
    expect: [401, 403, 403, 403, 401, 401, 200],
    path: async (f) => {
      const reg = await post(`${f.t.server.url}/agent/register`, { apiKey: f.t.server.bootstrap.agentKey });
      return `/v1/agents/${reg.body.agentId}/revoke`;
    },
  },
  "GET /v1/users": { expect: [401, 403, 403, 403, 401, 401, 200], path: () => "/v1/users" },
  "POST /v1/users": {
    expect: [401, 403, 403, 403, 401, 401, 201],
    path: () => "/v1/users",
    body: null, // a unique username per call, see bodyFor
  },
  "GET /v1/users/:id": { expect: [401, 403, 403, 403, 401, 401, 200], path: (f) => `/v1/users/${f.adminId}` },
  "PATCH /v1/users/:id": {
    expect: [401, 403, 403, 403, 401, 401, 200],
    path: async (f) => `/v1/users/${await throwawayUser(f)}`,
    body: { permissions: ["jobs:read"] },
  },
  "DELETE /v1/users/:id": {
    expect: [401, 403, 403, 403, 401, 401, 204],
    path: async (f) => `/v1/users/${await throwawayUser(f)}`,
  },
  "GET /v1/keys": { expect: [401, 403, 403, 403, 401, 401, 200], path: () => "/v1/keys" },
  "POST /v1/keys": {
    expect: [401, 403, 403, 403, 401, 401, 201],
    path: () => "/v1/keys",
    body: { scopes: ["jobs:read"] },
  },
  "GET /v1/keys/:id": { expect: [401, 403, 403, 403, 401, 401, 200], path: (f) => `/v1/keys/${f.keyA}` },
  "DELETE /v1/keys/:id": {
    expect: [401, 403, 403, 403, 401, 401, 200],
    path: async (f) => `/v1/keys/${(await f.admin.call("POST", "/v1/keys", { scopes: ["jobs:read"] })).body.id}`,
  },
  "GET /v1/audit": { expect: [401, 403, 403, 403, 401, 401, 200], path: () => "/v1/audit" },
  // Last: a second agent link with X's token replaces X's own (Y's, Y's).
  "GET /v1/agent/ws": { expect: [401, 401, 401, 401, 101, 101, 401], path: () => "/v1/agent/ws" },
};

async function throwawayUser(f: Fixture): Promise<string> {
  const r = await f.admin.call("POST", "/v1/users", { username: `tmp-${unique()}`, password: "throwaway-password" });
  return r.body.id;
}
function bodyFor(key: string, c: Case): unknown {
  if (key === "POST /v1/users") return { username: `u-${unique()}`, password: "a-password-long-enough" };
  return c.body;
}
async function adminLogin(t: TestServer) {
  return (
    await post(`${t.server.url}/v1/auth/login`, { username: "admin", password: t.server.bootstrap.adminPassword })
  ).body as { accessToken: string };
}

let f: Fixture;
let agentX: RawAgent;
before(async () => {
  const t = await testServer();
  const url = t.server.url;
  const adminToken = (await adminLogin(t)).accessToken;
  const admin = new Api(url, adminToken);
  const mk = async (body: Record<string, unknown>) => (await admin.call("POST", "/v1/keys", body)).body;
  const scopes = ["jobs:read", "jobs:write", "agents:read", "files:write"];
  const keyA = await mk({ owner: "owner-A", scopes });
  const keyB = await mk({ owner: "owner-B", scopes });
  const llm = await mk({ owner: "owner-A", scopes: ["jobs:read", "jobs:write"], capabilities: ["llm.*"] });
  const apiA = new Api(url, keyA.key);
  const up = await fetch(`${url}/v1/files?name=in.txt`, {
    method: "POST",
    headers: { authorization: `Bearer ${keyA.key}`, "content-type": "application/octet-stream" },
    body: "input bytes",
  });
  const fileHash = ((await up.json()) as { hash: string }).hash;
  agentX = await t.agent({ capabilities: ["held.cap"] });
  const agentY = await t.agent({ capabilities: ["other.cap"] });
  await agentX.connect();
  agentX.startHeartbeats(100);
  const job = await apiA.submit({ capability: "held.cap", inputs: [{ hash: fileHash, name: "in.txt" }] });
  const assigned = await agentX.nextJob();
  assert.equal(assigned.id, job.id);
  const me = (await admin.call("GET", "/v1/auth/me")).body;
  f = {
    t,
    cred: {
      anon: undefined,
      clientA: keyA.key,
      clientB: keyB.key,
      llmA: llm.key,
      agentX: agentX.token,
      agentY: agentY.token,
      admin: adminToken,
    },
    jobA: job.id,
    epoch: assigned.epoch,
    fileHash,
    agentX: agentX.agentId,
    adminId: me.id,
    keyA: keyA.id,
    admin,
  };
  TABLE["POST /v1/agent/messages"]!.body = {
    messages: [{ type: "job:progress", ref: 1, jobId: job.id, epoch: assigned.epoch, progress: { percent: 5 } }],
  };
});
after(() => f.t.close());

async function call(key: string, c: Case, who: Who): Promise<{ status: number; body: unknown }> {
  const [method] = key.split(" ") as [string];
  const path = await c.path(f, who);
  const credential = c.credential ? await c.credential(f, who) : f.cred[who];
  const headers: Record<string, string> = credential ? { authorization: `Bearer ${credential}` } : {};
  const url = f.t.server.url + path;
  if (path === "/mqtt") {
    return new Promise((resolve) => {
      const ws = new WebSocket(url.replace("http", "ws"), "mqtt", { headers });
      ws.once("upgrade", () => {
        ws.close();
        resolve({ status: 101, body: null });
      });
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, body: null });
      });
      ws.once("error", () => {});
    });
  }
  if (path === "/v1/events/ws" || path === "/v1/agent/ws") {
    return new Promise((resolve) => {
      const ws = new WebSocket(url.replace("http", "ws"), { headers });
      ws.once("open", () => {
        if (path === "/v1/agent/ws") ws.send(JSON.stringify({ type: "hello", protocolVersion: 1, running: [] }));
      });
      ws.once("upgrade", () => {
        ws.once("message", () => {
          ws.close();
          resolve({ status: 101, body: null });
        });
        ws.once("close", (code) => resolve({ status: code === 4401 ? 401 : code, body: null }));
      });
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, body: null });
      });
      ws.once("error", () => {});
    });
  }
  const body = bodyFor(key, c);
  if (c.raw !== undefined) headers["content-type"] = "application/octet-stream";
  else if (body !== undefined && body !== null) headers["content-type"] = "application/json";
  const ac = new AbortController();
  const r = await fetch(url, {
    method,
    headers,
    body: c.raw ?? (body === undefined || body === null ? undefined : JSON.stringify(body)),
    signal: ac.signal,
  });
  // Streams (SSE) answer their status with the headers; read the body only when it is JSON.
  let parsed: unknown = null;
  if ((r.headers.get("content-type") ?? "").includes("application/json")) parsed = await r.json();
  ac.abort();
  return { status: r.status, body: parsed };
}

test("the table names every route the server serves, and only those", () => {
  const served = f.t.server.routes.map((r) => `${r.method} ${r.url}`);
  const missing = served.filter((r) => !(r in TABLE));
  assert.deepEqual(missing, [], "routes without an entry in the authorisation table");
  const stale = Object.keys(TABLE).filter((k) => !served.includes(k));
  assert.deepEqual(stale, [], "table entries for routes the server does not serve");
});

test("every route × every caller answers as the table says", async () => {
  const wrong: string[] = [];
  for (const [key, c] of Object.entries(TABLE)) {
    for (const [i, who] of WHO.entries()) {
      const got = await call(key, c, who);
      if (got.status !== c.expect[i]) {
        wrong.push(`${key} as ${who}: expected ${c.expect[i]}, got ${got.status} ${JSON.stringify(got.body)}`);
      }
      if (got.status >= 400 && got.status !== 401 && got.body !== null) {
        assert.ok((got.body as { error?: unknown }).error, `${key} as ${who}: error envelope`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test("an agent's message about a job it does not hold is refused (nack), and changes nothing", async () => {
  const before = (await f.admin.get(f.jobA)).progress;
  const r = await call(
    "POST /v1/agent/messages",
    {
      ...TABLE["POST /v1/agent/messages"]!,
      body: {
        messages: [
          { type: "hello", protocolVersion: 1, running: [] },
          { type: "job:progress", ref: 9, jobId: f.jobA, epoch: f.epoch, progress: { percent: 77 } },
        ],
      },
    },
    "agentY",
  );
  const replies = (r.body as { replies: { type: string }[] }).replies;
  assert.ok(
    replies.some((m) => m.type === "nack"),
    JSON.stringify(replies),
  );
  assert.deepEqual((await f.admin.get(f.jobA)).progress, before);
});
