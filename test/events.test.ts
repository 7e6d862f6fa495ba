import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { JobEvent, ServerToClient } from "@gantry/protocol";
import WebSocket from "ws";
import { type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
before(async () => {
  t = await testServer();
});
after(() => t.close());

/** Reads an SSE stream to its end and returns the events. */
async function readSse(url: string, key: string): Promise<JobEvent[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const text = await res.text();
  return text
    .split("\n\n")
    .map((block) => block.split("\n").find((l) => l.startsWith("data: ")))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice(6)) as JobEvent);
}

test("SSE: status, progress and logs stream live; the stream ends at a terminal status", async () => {
  const a = await t.agent({ capabilities: ["ev.sse"] });
  a.startHeartbeats(200);
  await a.connect();
  const job = await t.api.submit({ capability: "ev.sse" });
  const events = readSse(`${t.server.url}/v1/jobs/${job.id}/events`, t.server.bootstrap.clientKey);
  const p = await a.nextJob();
  await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
  await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 50, stage: "half" } });
  await a.request({ type: "job:log", jobId: job.id, epoch: p.epoch, lines: [{ stream: "stdout", line: "hello" }] });
  await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: { ok: true } });
  const got = await events;
  const statuses = got.filter((e) => e.type === "status").map((e) => (e as { status: string }).status);
  assert.equal(statuses.at(-1), "completed");
  assert.ok(statuses.includes("running"));
  assert.ok(got.some((e) => e.type === "progress" && e.progress.percent === 50));
  assert.ok(got.some((e) => e.type === "log" && e.line === "hello" && e.seq === 1));
  assert.ok(got.some((e) => e.type === "output"));

  const logs = await t.api.call("GET", `/v1/jobs/${job.id}/logs?after=0`);
  assert.deepEqual(
    logs.body.lines.map((l: { line: string }) => l.line),
    ["hello"],
  );
  assert.equal(logs.body.nextAfter, 1);
});

test("SSE on a finished job sends its final status and ends", async () => {
  const job = await t.api.submit({ capability: "ev.done" });
  await t.api.call("POST", `/v1/jobs/${job.id}/cancel`);
  const got = await readSse(`${t.server.url}/v1/jobs/${job.id}/events`, t.server.bootstrap.clientKey);
  assert.deepEqual(
    got.map((e) => e.type === "status" && e.status),
    ["cancelled"],
  );
});

test("client WebSocket: one socket watches many jobs, with a snapshot per job", async () => {
  const j1 = await t.api.submit({ capability: "ev.ws" });
  const j2 = await t.api.submit({ capability: "ev.ws" });
  const ws = new WebSocket(`${t.server.url.replace("http", "ws")}/v1/events/ws?token=${t.server.bootstrap.clientKey}`);
  const frames: ServerToClient[] = [];
  const waitFor = (pred: (f: ServerToClient) => boolean) =>
    new Promise<ServerToClient>((resolve) => {
      const hit = frames.find(pred);
      if (hit) return resolve(hit);
      const on = (d: Buffer) => {
        const f = JSON.parse(d.toString()) as ServerToClient;
        if (pred(f)) {
          ws.off("message", on);
          resolve(f);
        }
      };
      ws.on("message", on);
    });
  ws.on("message", (d: Buffer) => frames.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once("open", r));
  ws.send(JSON.stringify({ type: "subscribe", jobIds: [j1.id, j2.id, "01ARZ3NDEKTSV4RRFFQ69G5FAV"] }));
  const sub = await waitFor((f) => f.type === "subscribed");
  assert.deepEqual(sub.type === "subscribed" && sub.missing, ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]);
  await t.api.call("POST", `/v1/jobs/${j2.id}/cancel`);
  const ev = await waitFor(
    (f) => f.type === "event" && f.event.jobId === j2.id && f.event.type === "status" && f.event.status === "cancelled",
  );
  assert.equal(ev.type, "event");
  ws.send("{not json");
  const err = await waitFor((f) => f.type === "error");
  assert.equal(err.type === "error" && err.error.code, "validation_failed");
  ws.close();
});

test("list: filters and cursor pagination walk every job once, newest first", async () => {
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) ids.push((await t.api.submit({ capability: "ev.list", payload: { i } })).id);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/v1/jobs?capability=ev.list&status=queued&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
    const page = await t.api.call("GET", q);
    assert.equal(page.status, 200);
    seen.push(...page.body.jobs.map((j: { id: string }) => j.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  assert.deepEqual(seen, [...ids].reverse());
});

test("GET /v1/agents shows agents with capabilities, tier, capacity and the latest heartbeat", async () => {
  const a = await t.agent({ capabilities: ["ev.agents[gpu]"], tier: 7, capacity: 3, name: "box-1" });
  await a.connect();
  a.send({
    type: "heartbeat",
    status: "idle",
    running: [],
    metrics: { cpuPercent: 12.5, memoryUsedMb: 100 },
    health: { healthy: true, issues: [], warnings: ["Low disk space"] },
  });
  const deadline = Date.now() + 5000;
  let view: any;
  do {
    const r = await t.api.call("GET", "/v1/agents");
    view = r.body.agents.find((x: { id: string }) => x.id === a.agentId);
  } while (view?.metrics?.cpuPercent !== 12.5 && Date.now() < deadline);
  assert.equal(view.online, true);
  assert.equal(view.name, "box-1");
  assert.deepEqual(view.capabilities, ["ev.agents[gpu]"]);
  assert.equal(view.tier, 7);
  assert.equal(view.capacity, 3);
  assert.equal(view.status, "idle");
  assert.deepEqual(view.health.warnings, ["Low disk space"]);
});
