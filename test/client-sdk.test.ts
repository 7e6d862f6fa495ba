import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import {
  AuthError,
  ConflictError,
  GantryClient,
  GantryNetworkError,
  JobCancelledError,
  JobNotFoundError,
  JobWatcher,
  SessionManager,
  ValidationError,
  WaitTimeoutError,
} from "@gantry/client";
import type { JobEvent } from "@gantry/protocol";
import { type GantryServer, startServer } from "@gantry/server";

// A real server and a real agent (debug.* executors) over loopback sockets.
let dir: string;
let server: GantryServer;
let agent: Agent;
let client: GantryClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "gantry-client-test-"));
  server = await startServer({ port: 0, dataDir: join(dir, "server"), logLevel: "silent" });
  agent = await startAgent({
    server: server.url,
    key: server.bootstrap.agentKey,
    configPath: join(dir, "agent", "agent.json"),
    dataDir: join(dir, "agent"),
    capacity: 4,
    logLevel: "silent",
    print: () => {},
    statusServer: false,
    metrics: false,
  });
  client = new GantryClient({ url: server.url, apiKey: server.bootstrap.clientKey });
});

after(async () => {
  await agent?.stop({ drainTimeoutMs: 0 });
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A capability no agent has, so jobs stay queued. */
const NOBODY = "test.nobody-runs-this";

describe("GantryClient against a real server", () => {
  it("reports health and the connected agent", async () => {
    const health = await client.health();
    assert.equal(health.status, "ok");
    const agents = await client.agents();
    assert.ok(agents.some((a) => a.id === agent.agentId && a.capabilities.includes("debug.echo")));
  });

  it("submits, gets and lists jobs, following cursors across pages", async () => {
    const capability = "test.listing";
    const submitted = [];
    for (let i = 0; i < 5; i++) submitted.push(await client.submit({ capability, payload: { i } }));
    assert.equal(submitted[0]?.status, "queued");
    const got = await client.get(submitted[0]!.id);
    assert.deepEqual(got.payload, { i: 0 });

    const page = await client.list({ capability, limit: 2 });
    assert.equal(page.jobs.length, 2);
    assert.ok(page.nextCursor);
    const all = [];
    for await (const job of client.listAll({ capability, status: ["queued"], limit: 2 })) all.push(job.id);
    assert.deepEqual(all.sort(), submitted.map((j) => j.id).sort());
    const none = await client.list({ capability, status: "completed" });
    assert.equal(none.jobs.length, 0);
  });

  it("submits a batch and honours idempotency keys", async () => {
    const jobs = await client.submitBatch([{ capability: NOBODY }, { capability: NOBODY, priority: 5 }]);
    assert.equal(jobs.length, 2);
    const a = await client.submit({ capability: NOBODY, idempotencyKey: "client-test-key" });
    const b = await client.submit({ capability: NOBODY, idempotencyKey: "client-test-key" });
    assert.equal(a.id, b.id);
  });

  it("turns error envelopes into typed errors", async () => {
    await assert.rejects(client.submit({ capability: "Not A Capability" }), ValidationError);
    await assert.rejects(client.get("01ARZ3NDEKTSV4RRFFQ69G5FAV"), JobNotFoundError);
    const stranger = new GantryClient({ url: server.url, apiKey: "gnt_c_wrong", retries: 0 });
    await assert.rejects(stranger.list(), AuthError);
    const nowhere = new GantryClient({ url: "http://127.0.0.1:1", retries: 0 });
    await assert.rejects(nowhere.health(), GantryNetworkError);
  });

  it("cancels and retries a queued job", async () => {
    const job = await client.submit({ capability: NOBODY });
    const cancelled = await client.cancel(job.id);
    assert.equal(cancelled.status, "cancelled");
    await assert.rejects(client.cancel(job.id), ConflictError);
    await assert.rejects(client.waitForSuccess(job.id), JobCancelledError);
    const retried = await client.retry(job.id);
    assert.equal(retried.status, "queued");
    await client.cancel(job.id);
  });

  it("gives up waiting with WaitTimeoutError carrying the job, which keeps running", async () => {
    const job = await client.submit({ capability: NOBODY });
    const error = await client.wait(job.id, { timeoutMs: 300 }).catch((e: unknown) => e);
    assert.ok(error instanceof WaitTimeoutError);
    assert.equal(error.job?.status, "queued");
    assert.equal((await client.get(job.id)).status, "queued");
    await client.cancel(job.id);
  });

  it("waits for a job over SSE and returns the full completed job", async () => {
    const job = await client.submit({ capability: "debug.echo", payload: { x: 1 } });
    const events: JobEvent[] = [];
    const done = await client.wait(job.id, { timeoutMs: 20_000, onEvent: (e) => events.push(e) });
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { x: 1 });
    assert.equal(events.at(-1)?.type, "status");
    assert.ok(events.some((e) => e.type === "status" && e.status === "completed"));
  });

  it("waits by polling when events are off, and waitForSuccess returns the job", async () => {
    const job = await client.submit({ capability: "debug.echo", payload: "polled" });
    const done = await client.waitForSuccess(job.id, { events: false, timeoutMs: 20_000 });
    assert.equal(done.output, "polled");
  });

  it("follows a job's SSE events directly", async () => {
    const job = await client.submit({ capability: "debug.sleep", payload: { ms: 1200 } });
    const types: string[] = [];
    for await (const event of client.events(job.id)) types.push(event.type === "status" ? event.status : event.type);
    assert.equal(types.at(-1), "completed");
    assert.ok(types.includes("progress"));
    const logs = await client.logs(job.id);
    assert.ok(Array.isArray(logs.lines));
  });

  it("logs in with SessionManager and uses the access token", async () => {
    const session = new SessionManager({ url: server.url });
    await assert.rejects(session.login(server.bootstrap.adminUser, "wrong"), AuthError);
    await session.login(server.bootstrap.adminUser, server.bootstrap.adminPassword);
    const first = await session.getValidToken();
    const viaSession = session.createClient();
    assert.ok(Array.isArray((await viaSession.list({ limit: 1 })).jobs));
    const rotated = await session.refresh();
    assert.notEqual(rotated, first);
    assert.ok((await viaSession.list({ limit: 1 })).jobs);
  });
});

describe("JobWatcher against a real server", () => {
  it("watches many jobs on one socket; onComplete gets each full job once, bad listeners do not matter", async () => {
    const watcher = client.watcher();
    const jobs = await client.submitBatch([
      { capability: "debug.echo", payload: 1 },
      { capability: "debug.echo", payload: 2 },
      { capability: "debug.sleep", payload: { ms: 1100 } },
    ]);
    const queued = await client.submit({ capability: NOBODY });
    const listenerFailures: unknown[] = [];
    watcher.on("watcher:listener:failed", ({ error }) => listenerFailures.push(error));
    watcher.on("watcher:event:received", () => {
      throw new Error("bad listener");
    });
    const completed = new Map<string, unknown>();
    const progress: number[] = [];
    await new Promise<void>((resolve, reject) => {
      watcher.subscribe(
        jobs.map((j) => j.id),
        {
          onEvent: () => {
            throw new Error("bad handler");
          },
          onProgress: (p) => {
            progress.push(p.percent);
          },
          onComplete: (job) => {
            assert.ok(!completed.has(job.id), "onComplete twice");
            completed.set(job.id, job.output);
            if (jobs.every((j) => completed.has(j.id))) resolve();
          },
          onError: reject,
        },
      );
      // A second subscription on the same socket, to a job that is cancelled while watched.
      watcher.subscribe([queued.id], {
        onComplete: (job) => {
          completed.set(job.id, job.status);
        },
        onError: reject,
      });
      setTimeout(() => void client.cancel(queued.id), 200);
      setTimeout(async () => {
        const states = await Promise.all(jobs.map(async (j) => (await client.get(j.id)).status));
        reject(
          new Error(`not all completed after 15 s: ${states.join(", ")}; seen ${[...completed.keys()].join(", ")}`),
        );
      }, 15_000).unref();
    });
    assert.equal(completed.get(jobs[0]!.id), 1);
    assert.equal(completed.get(jobs[1]!.id), 2);
    assert.ok(progress.length > 0);
    assert.ok(listenerFailures.length > 0);
    // The cancelled job completes too (possibly already).
    for (let i = 0; i < 50 && !completed.has(queued.id); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(completed.get(queued.id), "cancelled");
    assert.deepEqual(watcher.watching, []);
    watcher.close();
    assert.equal(watcher.state, "closed");
  });

  it("reports unknown jobs through onError", async () => {
    const watcher = client.watcher();
    const errors: string[] = [];
    await new Promise<void>((resolve) => {
      watcher.subscribe(["01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-a-ulid"], {
        onError: (error, jobId) => {
          assert.ok(error instanceof JobNotFoundError);
          errors.push(jobId ?? "");
          if (errors.length === 2) resolve();
        },
      });
    });
    assert.deepEqual(errors.sort(), ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-a-ulid"]);
    watcher.close();
  });

  it("a socket that never opens (the server accepts TCP but never answers the upgrade) is dropped and retried", async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    const c = new GantryClient({ url: `http://127.0.0.1:${port}`, apiKey: "gk_never_checked" });
    const watcher = new JobWatcher({ client: c, reconnect: { baseMs: 10, capMs: 50 }, connectTimeoutMs: 200 });
    const retries: number[] = [];
    watcher.on("watcher:connection:retrying", ({ attempt }) => retries.push(attempt));
    watcher.subscribe(["01J00000000000000000000000"], {});
    const end = Date.now() + 30_000;
    while (retries.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    watcher.close();
    for (const s of held) s.destroy();
    silent.close();
    assert.ok(retries.length >= 2, `the watcher retried ${retries.length} time(s)`);
    assert.ok(held.length >= 2, "each retry opened a new connection");
  });

  it("reconnects and resubscribes after the server restarts (and wait() keeps polling through it)", async () => {
    const dataDir = join(dir, "restart");
    let s2 = await startServer({ port: 0, dataDir, logLevel: "silent" });
    const port = s2.port;
    const c2 = new GantryClient({ url: s2.url, apiKey: s2.bootstrap.clientKey });
    const job = await c2.submit({ capability: NOBODY });
    const watcher = new JobWatcher({
      client: c2,
      reconnect: { baseMs: 50, capMs: 500 },
    });
    const opened: number[] = [];
    watcher.on("watcher:connection:opened", ({ attempt }) => opened.push(attempt));
    const done = new Promise<string>((resolve, reject) => {
      watcher.subscribe([job.id], { onComplete: (j) => resolve(j.status), onError: reject });
    });
    // Follows SSE; when the server goes away mid-stream, wait() falls back to polling and rides it out.
    // Generous bounds: on a loaded 2-core machine a restart and the reconnect after it can take a while.
    const waited = c2.wait(job.id, { timeoutMs: 120_000 });
    waited.catch(() => {}); // awaited below; a failure must not surface as an unhandled rejection first
    const until = async (what: string, ok: () => boolean) => {
      const end = Date.now() + 60_000;
      while (!ok()) {
        if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until("the watcher's first connection", () => opened.length > 0);
    await s2.close();
    s2 = await startServer({ port, dataDir, logLevel: "silent" });
    await until("the watcher to reconnect", () => opened.length >= 2);
    await c2.cancel(job.id);
    assert.equal(await done, "cancelled");
    assert.equal((await waited).status, "cancelled");
    watcher.close();
    await s2.close();
  });
});
