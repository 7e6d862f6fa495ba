import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ERROR_CODES, ErrorEnvelope } from "@gantry/protocol";
import { type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
before(async () => {
  t = await testServer();
});
after(() => t.close());

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  auth?: "client" | "none" | string;
  status: number;
  code: string;
}

const ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
const job = (extra: Record<string, unknown>) => ({ capability: "bad.input", ...extra });

const cases: Case[] = [
  // auth
  {
    name: "no credential",
    method: "POST",
    path: "/v1/jobs",
    body: job({}),
    auth: "none",
    status: 401,
    code: "auth_required",
  },
  {
    name: "unknown key",
    method: "POST",
    path: "/v1/jobs",
    body: job({}),
    auth: "gnt_c_nope",
    status: 401,
    code: "auth_invalid",
  },
  { name: "garbage token", method: "GET", path: "/v1/jobs", auth: "abc.def.ghi", status: 401, code: "auth_invalid" },
  {
    name: "enrolment key as client key",
    method: "GET",
    path: "/v1/jobs",
    auth: "enrol",
    status: 401,
    code: "auth_invalid",
  },
  {
    name: "admin route with client key",
    method: "POST",
    path: "/v1/agents/x/revoke",
    status: 403,
    code: "auth_forbidden",
  },
  // body shape
  { name: "invalid JSON", method: "POST", path: "/v1/jobs", raw: "{bad", status: 400, code: "invalid_json" },
  { name: "empty JSON body", method: "POST", path: "/v1/jobs", raw: "", status: 400, code: "invalid_json" },
  {
    name: "text/plain body",
    method: "POST",
    path: "/v1/jobs",
    raw: "hi",
    contentType: "text/plain",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "body is an array",
    method: "POST",
    path: "/v1/jobs",
    body: [job({})],
    status: 400,
    code: "validation_failed",
  },
  {
    name: "missing capability",
    method: "POST",
    path: "/v1/jobs",
    body: { payload: {} },
    status: 400,
    code: "validation_failed",
  },
  {
    name: "capability not a string",
    method: "POST",
    path: "/v1/jobs",
    body: { capability: 7 },
    status: 400,
    code: "validation_failed",
  },
  {
    // Mixed case is accepted (seed 000's GENERAL_COMPUTE); spaces are not.
    name: "capability with a space",
    method: "POST",
    path: "/v1/jobs",
    body: { capability: "LLM mistral" },
    status: 400,
    code: "invalid_capability",
  },
  {
    name: "empty segment",
    method: "POST",
    path: "/v1/jobs",
    body: { capability: "a..b" },
    status: 400,
    code: "invalid_capability",
  },
  {
    name: "unclosed attrs",
    method: "POST",
    path: "/v1/jobs",
    body: { capability: "x[gpu" },
    status: 400,
    code: "invalid_capability",
  },
  {
    name: "empty attrs",
    method: "POST",
    path: "/v1/jobs",
    body: { capability: "x[]" },
    status: 400,
    code: "invalid_capability",
  },
  {
    name: "repeated attr",
    method: "POST",
    path: "/v1/jobs",
    body: { capability: "x[a;a]" },
    status: 400,
    code: "invalid_capability",
  },
  {
    name: "priority as text",
    method: "POST",
    path: "/v1/jobs",
    body: job({ priority: "high" }),
    status: 400,
    code: "validation_failed",
  },
  {
    name: "fractional priority",
    method: "POST",
    path: "/v1/jobs",
    body: job({ priority: 1.5 }),
    status: 400,
    code: "validation_failed",
  },
  {
    name: "negative timeout",
    method: "POST",
    path: "/v1/jobs",
    body: job({ timeoutSecs: -1 }),
    status: 400,
    code: "validation_failed",
  },
  {
    name: "zero maxAttempts",
    method: "POST",
    path: "/v1/jobs",
    body: job({ maxAttempts: 0 }),
    status: 400,
    code: "validation_failed",
  },
  {
    name: "unknown field",
    method: "POST",
    path: "/v1/jobs",
    body: job({ capabilty: "x" }),
    status: 400,
    code: "validation_failed",
  },
  {
    name: "empty idempotency key",
    method: "POST",
    path: "/v1/jobs",
    body: job({ idempotencyKey: "" }),
    status: 400,
    code: "validation_failed",
  },
  {
    name: "bad input hash",
    method: "POST",
    path: "/v1/jobs",
    body: job({ inputs: [{ name: "a", hash: "xyz" }] }),
    status: 400,
    code: "validation_failed",
  },
  {
    name: "body over 1 MiB",
    method: "POST",
    path: "/v1/jobs",
    raw: JSON.stringify(job({ payload: "x".repeat(1_100_000) })),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "empty batch",
    method: "POST",
    path: "/v1/jobs/batch",
    body: { jobs: [] },
    status: 400,
    code: "validation_failed",
  },
  {
    name: "batch with one bad job",
    method: "POST",
    path: "/v1/jobs/batch",
    body: { jobs: [job({}), { capability: "BAD..name" }] },
    status: 400,
    code: "invalid_capability",
  },
  {
    name: "batch over 1000",
    method: "POST",
    path: "/v1/jobs/batch",
    body: { jobs: Array.from({ length: 1001 }, () => job({})) },
    status: 400,
    code: "validation_failed",
  },
  // ids and queries
  { name: "job id not a ULID", method: "GET", path: "/v1/jobs/not-an-id", status: 400, code: "validation_failed" },
  { name: "unknown job", method: "GET", path: `/v1/jobs/${ULID}`, status: 404, code: "job_not_found" },
  { name: "cancel unknown job", method: "POST", path: `/v1/jobs/${ULID}/cancel`, status: 404, code: "job_not_found" },
  { name: "retry unknown job", method: "POST", path: `/v1/jobs/${ULID}/retry`, status: 404, code: "job_not_found" },
  { name: "logs of unknown job", method: "GET", path: `/v1/jobs/${ULID}/logs`, status: 404, code: "job_not_found" },
  { name: "events of unknown job", method: "GET", path: `/v1/jobs/${ULID}/events`, status: 404, code: "job_not_found" },
  {
    name: "negative log cursor",
    method: "GET",
    path: `/v1/jobs/${ULID}/logs?after=-1`,
    status: 400,
    code: "validation_failed",
  },
  { name: "limit 0", method: "GET", path: "/v1/jobs?limit=0", status: 400, code: "validation_failed" },
  { name: "limit not a number", method: "GET", path: "/v1/jobs?limit=abc", status: 400, code: "validation_failed" },
  {
    name: "unknown status",
    method: "GET",
    path: "/v1/jobs?status=queued,bogus",
    status: 400,
    code: "validation_failed",
  },
  { name: "forged cursor", method: "GET", path: "/v1/jobs?cursor=Zm9vYmFy", status: 400, code: "invalid_cursor" },
  { name: "unknown query param", method: "GET", path: "/v1/jobs?colour=red", status: 400, code: "validation_failed" },
  {
    name: "stats: unknown query param",
    method: "GET",
    path: "/v1/jobs/stats?status=queued",
    status: 400,
    code: "validation_failed",
  },
  // agents
  {
    name: "register without key",
    method: "POST",
    path: "/agent/register",
    body: { capabilities: [] },
    auth: "none",
    status: 400,
    code: "validation_failed",
  },
  {
    name: "register tier 300",
    method: "POST",
    path: "/agent/register",
    body: { apiKey: "enrol", tier: 300 },
    auth: "none",
    status: 400,
    code: "validation_failed",
  },
  {
    name: "register capacity 0",
    method: "POST",
    path: "/agent/register",
    body: { apiKey: "enrol", capacity: 0 },
    auth: "none",
    status: 400,
    code: "validation_failed",
  },
  {
    name: "register bad capability",
    method: "POST",
    path: "/agents",
    body: { apiKey: "enrol", capabilities: ["x[gpu"] },
    auth: "none",
    status: 400,
    code: "invalid_capability",
  },
  {
    name: "register with a client key",
    method: "POST",
    path: "/agent/register",
    body: { apiKey: "client" },
    auth: "none",
    status: 401,
    code: "agent_enrolment_invalid",
  },
  {
    name: "auth without key",
    method: "POST",
    path: "/agent/auth",
    body: { agentId: "x" },
    auth: "none",
    status: 400,
    code: "validation_failed",
  },
  {
    name: "auth unknown agent",
    method: "POST",
    path: "/agent/auth",
    body: { agentId: "x", key: "y" },
    auth: "none",
    status: 401,
    code: "auth_invalid",
  },
  {
    name: "ping without token",
    method: "GET",
    path: "/private/agent/ping",
    auth: "none",
    status: 401,
    code: "auth_required",
  },
  { name: "ping with a client key", method: "GET", path: "/private/agent/ping", status: 401, code: "auth_invalid" },
  {
    name: "poll wait too long",
    method: "GET",
    path: "/v1/agent/jobs/next?wait=999",
    status: 400,
    code: "validation_failed",
  },
  {
    name: "poll without token",
    method: "GET",
    path: "/v1/agent/jobs/next",
    auth: "none",
    status: 401,
    code: "auth_required",
  },
  {
    name: "bad agent message",
    method: "POST",
    path: "/v1/agent/messages",
    body: { messages: [{ type: "job:teleport" }] },
    status: 400,
    code: "validation_failed",
  },
  { name: "agents without key", method: "GET", path: "/v1/agents", auth: "none", status: 401, code: "auth_required" },
  // users
  {
    name: "login wrong password",
    method: "POST",
    path: "/v1/auth/login",
    body: { username: "admin", password: "nope" },
    auth: "none",
    status: 401,
    code: "auth_login_failed",
  },
  {
    name: "login missing password",
    method: "POST",
    path: "/v1/auth/login",
    body: { username: "admin" },
    auth: "none",
    status: 400,
    code: "validation_failed",
  },
  {
    name: "refresh garbage",
    method: "POST",
    path: "/v1/auth/refresh",
    body: { refreshToken: "gnt_r_x" },
    auth: "none",
    status: 401,
    code: "auth_invalid",
  },
  // routes
  { name: "unknown route", method: "GET", path: "/v1/nope", status: 404, code: "route_not_found" },
  { name: "wrong method", method: "DELETE", path: "/v1/jobs", status: 404, code: "route_not_found" },
];

async function counts() {
  const jobs = await t.api.call("GET", "/v1/jobs?limit=500");
  const agents = await t.api.call("GET", "/v1/agents");
  return { jobs: jobs.body.jobs.length, agents: agents.body.agents.length };
}

test("every bad request gets a 4xx in the one error envelope and changes nothing", async () => {
  await t.api.submit({ capability: "bad.baseline" });
  const before = await counts();
  const boot = t.server.bootstrap;
  for (const c of cases) {
    const headers: Record<string, string> = {};
    const auth = c.auth ?? "client";
    const credential = auth === "client" ? boot.clientKey : auth === "enrol" ? boot.agentKey : auth;
    if (auth !== "none") headers.authorization = `Bearer ${credential}`;
    let body: string | undefined = c.raw;
    if (c.body !== undefined) {
      body = JSON.stringify(c.body)
        .replace('"enrol"', JSON.stringify(boot.agentKey))
        .replace('"client"', JSON.stringify(boot.clientKey));
    }
    if (body !== undefined) headers["content-type"] = c.contentType ?? "application/json";
    const res = await fetch(t.server.url + c.path, { method: c.method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      assert.fail(`${c.name}: body is not JSON: ${text.slice(0, 200)}`);
    }
    assert.equal(res.status, c.status, `${c.name}: status ${res.status} ${text.slice(0, 300)}`);
    const envelope = ErrorEnvelope.strict().safeParse(parsed);
    assert.ok(envelope.success, `${c.name}: not the envelope: ${text.slice(0, 300)}`);
    assert.equal(envelope.data.error.code, c.code, `${c.name}: ${text.slice(0, 300)}`);
    assert.ok(Object.hasOwn(ERROR_CODES, envelope.data.error.code), `${c.name}: code not in the registry`);
    assert.ok(envelope.data.error.message.length > 0);
  }
  assert.deepEqual(await counts(), before, "bad input changed state");
});
