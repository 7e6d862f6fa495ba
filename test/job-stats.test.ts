import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { JobStatsResponse } from "@gantry/protocol";
import { Api } from "./helpers/api.ts";
import { post } from "./helpers/raw-agent.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * GET /v1/jobs/stats over the wire: the counts follow the jobs through their states, and each caller
 * sees only what it may list (its own jobs, within its key's capabilities; all of them for an admin).
 */
let t: TestServer;
let admin: Api;
const zero = { queued: 0, assigned: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };

before(async () => {
  t = await testServer();
  const login = await post(`${t.server.url}/v1/auth/login`, {
    username: "admin",
    password: t.server.bootstrap.adminPassword,
  });
  admin = new Api(t.server.url, (login.body as { accessToken: string }).accessToken);
});
after(() => t.close());

const stats = async (api: Api): Promise<JobStatsResponse> => {
  const r = await api.call("GET", "/v1/jobs/stats");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
};

test("stats count per status and capability, per caller", async () => {
  const key = async (body: Record<string, unknown>) =>
    new Api(t.server.url, (await admin.call("POST", "/v1/keys", body)).body.key);
  const a = await key({ owner: "owner-A", scopes: ["jobs:read", "jobs:write"] });
  const b = await key({ owner: "owner-B", scopes: ["jobs:read", "jobs:write"] });
  const llmA = await key({ owner: "owner-A", scopes: ["jobs:read"], capabilities: ["llm.*"] });

  const empty = await stats(a);
  assert.deepEqual(empty, { total: 0, byStatus: zero, byCapability: {}, oldestQueuedAt: null });

  const first = await a.submit({ capability: "llm.chat" });
  await a.submit({ capability: "ocr.page" });
  const cancelled = await a.submit({ capability: "ocr.page" });
  await a.call("POST", `/v1/jobs/${cancelled.id}/cancel`);
  await b.submit({ capability: "ocr.page" });

  const sa = await stats(a);
  assert.equal(sa.total, 3);
  assert.deepEqual(sa.byStatus, { ...zero, queued: 2, cancelled: 1 });
  assert.deepEqual(sa.byCapability, {
    "llm.chat": { ...zero, queued: 1 },
    "ocr.page": { ...zero, queued: 1, cancelled: 1 },
  });
  assert.equal(sa.oldestQueuedAt, first.createdAt);

  const sb = await stats(b);
  assert.deepEqual(sb.byStatus, { ...zero, queued: 1 });
  assert.deepEqual(Object.keys(sb.byCapability), ["ocr.page"]);

  // A key limited to llm.* counts only llm.* jobs, and its oldest queued job is among them.
  const sl = await stats(llmA);
  assert.equal(sl.total, 1);
  assert.deepEqual(sl.byCapability, { "llm.chat": { ...zero, queued: 1 } });
  assert.equal(sl.oldestQueuedAt, first.createdAt);

  const all = await stats(admin);
  assert.equal(all.total, 4);
  assert.deepEqual(all.byCapability["ocr.page"], { ...zero, queued: 2, cancelled: 1 });
});
