import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type SseMessage, SseParser } from "@gantry/client";
import type { JobEvent } from "@gantry/protocol";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * SSE log streams resume: a client that reconnects with Last-Event-ID gets exactly the lines it
 * missed (replayed from the store), then live ones: nothing lost, nothing repeated.
 */

let t: TestServer;
before(async () => {
  t = await testServer();
});
after(() => t.close());

/** An open SSE stream: read events one by one, close it mid-stream like a dropped connection. */
async function openSse(url: string, lastEventId?: string) {
  const ac = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${t.server.bootstrap.clientKey}` };
  if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
  const res = await fetch(url, { headers, signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const queue: SseMessage[] = [];
  return {
    /** The next event, or undefined when the stream ended. */
    async next(): Promise<(SseMessage & { event: string; json: JobEvent }) | undefined> {
      while (queue.length === 0) {
        const r = await reader.read();
        if (r.done) return undefined;
        queue.push(...parser.push(r.value));
      }
      const m = queue.shift()!;
      return { ...m, json: JSON.parse(m.data) as JobEvent };
    },
    close: () => ac.abort(),
  };
}

async function nextLog(s: Awaited<ReturnType<typeof openSse>>) {
  for (;;) {
    const m = await s.next();
    if (!m || m.json.type === "log") return m;
  }
}

test("SSE: log events carry their sequence as id; a reconnect with Last-Event-ID replays exactly the missed lines", async () => {
  const a = await t.agent({ capabilities: ["ev.resume"] });
  a.startHeartbeats(200);
  await a.connect();
  const job = await t.api.submit({ capability: "ev.resume" });
  const p = await a.nextJob();
  await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
  const url = `${t.server.url}/v1/jobs/${job.id}/events`;
  const line = (n: number) => ({ stream: "stdout", line: `line ${n}` });
  const log = (from: number, to: number) =>
    a.request({
      type: "job:log",
      jobId: job.id,
      epoch: p.epoch,
      lines: Array.from({ length: to - from + 1 }, (_, i) => line(from + i)),
    });

  const first = await openSse(url);
  await log(1, 3);
  const seen: string[] = [];
  let lastId: string | undefined;
  for (let i = 0; i < 3; i++) {
    const m = (await nextLog(first))!;
    assert.equal(m.id, String((m.json as { seq: number }).seq));
    seen.push((m.json as { line: string }).line);
    lastId = m.id;
  }
  first.close(); // the connection drops…

  await log(4, 6); // …while the job keeps logging
  const second = await openSse(url, lastId);
  await log(7, 7);
  for (let i = 0; i < 4; i++) seen.push(((await nextLog(second))!.json as { line: string }).line);
  await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: null });
  // The rest of the stream: no more log lines (none repeated), then the end.
  for (;;) {
    const m = await second.next();
    if (!m) break;
    assert.notEqual(m.json.type, "log", `unexpected log event ${m.data}`);
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 7 }, (_, i) => `line ${i + 1}`),
  );
});

test("SSE: Last-Event-ID on a finished job replays the lines after it, then the final status", async () => {
  const a = await t.agent({ capabilities: ["ev.resume2"] });
  await a.connect();
  const job = await t.api.submit({ capability: "ev.resume2" });
  const p = await a.nextJob();
  await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
  await a.request({
    type: "job:log",
    jobId: job.id,
    epoch: p.epoch,
    lines: ["a", "b", "c"].map((l) => ({ stream: "stdout", line: l })),
  });
  await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: null });
  const s = await openSse(`${t.server.url}/v1/jobs/${job.id}/events`, "1");
  const got: string[] = [];
  for (;;) {
    const m = await s.next();
    if (!m) break;
    if (m.json.type === "log") got.push(m.json.line);
    else if (m.json.type === "status") got.push(`status:${m.json.status}`);
  }
  assert.deepEqual(got, ["b", "c", "status:completed"]);
});

test("SSE: a reader that stops reading is cut off (server memory stays bounded) and resumes without loss", async () => {
  const a = await t.agent({ capabilities: ["ev.stalled"] });
  a.startHeartbeats(200);
  await a.connect();
  const job = await t.api.submit({ capability: "ev.stalled" });
  const p = await a.nextJob();
  await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
  const stalled = await openSse(`${t.server.url}/v1/jobs/${job.id}/events`);
  // ~40 MB of log lines while the client reads nothing: far past the 8 MB the server will hold for it.
  const big = "x".repeat(64_000);
  const total = 640;
  for (let m = 0; m < total / 80; m++) {
    const lines = Array.from({ length: 80 }, (_, i) => ({ stream: "stdout", line: `${m * 80 + i} ${big}` }));
    const r = await a.request({ type: "job:log", jobId: job.id, epoch: p.epoch, lines });
    assert.equal(r.type, "ack");
  }
  const seen: number[] = [];
  let lastId: string | undefined;
  for (;;) {
    const m = await stalled.next();
    if (!m) break; // the server ended the stream: no terminal status came
    if (m.json.type === "log") {
      seen.push(Number(m.json.line.split(" ")[0]));
      lastId = m.id;
    }
  }
  assert.ok(seen.length < total, `the stalled stream was not cut (${seen.length} lines)`);
  const resumed = await openSse(`${t.server.url}/v1/jobs/${job.id}/events`, lastId);
  while (seen.length < total) {
    const m = await nextLog(resumed);
    assert.ok(m, "the resumed stream ended early");
    seen.push(Number((m.json as { line: string }).line.split(" ")[0]));
  }
  resumed.close();
  assert.deepEqual(
    seen,
    Array.from({ length: total }, (_, i) => i),
  );
});
