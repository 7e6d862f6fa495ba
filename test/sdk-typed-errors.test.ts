import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  AdminApi,
  AuthError,
  ForbiddenError,
  GantryClient,
  JobFailedError,
  JobNotFoundError,
  RateLimitedError,
  ValidationError,
  WorkerUnavailableError,
} from "@gantry/client";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

// Every typed error of the SDK, each raised by a real server (no fakes).
let t: TestServer;
let client: GantryClient;
before(async () => {
  t = await testServer(FAST);
  client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey, retries: 0 });
});
after(async () => {
  client.close();
  await t.close();
});

test("JobNotFoundError: get, and subscribeJobUpdates' onError, for a job that does not exist", async () => {
  const missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  const err = await client.get(missing).catch((e: unknown) => e);
  assert.ok(err instanceof JobNotFoundError, String(err));
  assert.equal(err.status, 404);
  assert.equal(err.code, "job_not_found");
  const viaSub = await new Promise<Error>((resolve) =>
    client.subscribeJobUpdates(missing, { onError: resolve, onComplete: () => resolve(new Error("completed?")) }),
  );
  assert.ok(viaSub instanceof JobNotFoundError, String(viaSub));
});

test("JobFailedError carries the failed job (waitForSuccess)", async () => {
  const job = await client.submit("errors.fail", {});
  const a = await t.agent({ capabilities: ["errors.fail"] });
  await a.connect();
  const p = await a.nextJob();
  await a.request({
    type: "job:failed",
    jobId: job.id,
    epoch: p.epoch,
    error: { category: "fatal", message: "no such image" },
  });
  const err = await client.waitForSuccess(job.id, { timeoutMs: 20_000 }).catch((e: unknown) => e);
  assert.ok(err instanceof JobFailedError, String(err));
  assert.equal(err.job.id, job.id);
  assert.equal(err.job.status, "failed");
  assert.equal(err.job.error?.message, "no such image");
  await a.close();
});

test("WorkerUnavailableError names the capabilities nobody serves", async () => {
  const err = await client.waitForWorkers(["errors.nobody"], { timeout: 200 }).catch((e: unknown) => e);
  assert.ok(err instanceof WorkerUnavailableError, String(err));
  assert.deepEqual(err.missing, ["errors.nobody"]);
});

test("AuthError for 401 (bad key) and for 403 (ForbiddenError: a client key on an admin route)", async () => {
  const bad = new GantryClient({ url: t.server.url, apiKey: "gnt_c_not_a_key", retries: 0 });
  const e401 = await bad.list().catch((e: unknown) => e);
  assert.ok(e401 instanceof AuthError && !(e401 instanceof ForbiddenError), String(e401));
  assert.equal(e401.status, 401);
  const admin = new AdminApi({ url: t.server.url, credential: t.server.bootstrap.clientKey });
  const e403 = await admin.listUsers().catch((e: unknown) => e);
  assert.ok(e403 instanceof ForbiddenError, String(e403));
  assert.ok(e403 instanceof AuthError, "a 403 is an AuthError too");
  assert.equal(e403.status, 403);
});

test("ValidationError carries the envelope's details; nothing was written", async () => {
  const before = (await client.list({ limit: 500 })).jobs.length;
  const err = await client.submit({ capability: "errors.ok", priority: 10_000 }).catch((e: unknown) => e);
  assert.ok(err instanceof ValidationError, String(err));
  assert.equal(err.status, 400);
  assert.ok(err.details !== undefined && JSON.stringify(err.details).includes("priority"), JSON.stringify(err.details));
  assert.equal((await client.list({ limit: 500 })).jobs.length, before);
});

test("RateLimitedError with retryAfterMs once a key passes a low per-key limit", async () => {
  const limited = await testServer({ ...FAST, rateLimit: { max: 3, timeWindowMs: 60_000 } });
  try {
    const c = new GantryClient({ url: limited.server.url, apiKey: limited.server.bootstrap.clientKey, retries: 0 });
    let err: unknown;
    for (let i = 0; i < 10 && err === undefined; i++)
      err = await c.list().then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof RateLimitedError, String(err));
    assert.equal(err.status, 429);
    assert.ok(err.retryAfterMs !== undefined && err.retryAfterMs > 0, `retryAfterMs ${err.retryAfterMs}`);
    // The limit is per key: another credential (an unknown key: 401, not 429) has its own bucket.
    const other = await new GantryClient({ url: limited.server.url, apiKey: "gnt_c_other", retries: 0 })
      .list()
      .catch((e: unknown) => e);
    assert.ok(other instanceof AuthError, String(other));
  } finally {
    await limited.close();
  }
});
