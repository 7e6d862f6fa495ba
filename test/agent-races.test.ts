import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ServerToAgent } from "@gantry/protocol";
import WebSocket from "ws";
import { post, type RawAgent } from "./helpers/raw-agent.ts";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * The agent path at its edges: cancels across a reconnect, slots of jobs the server ended, frames
 * racing the hello, agents reporting an error, another protocol version, and very large frames.
 * Raw protocol agents over real sockets.
 */
let t: TestServer;
before(async () => {
  t = await testServer();
});
after(() => t.close());

/** One heartbeat round trip: everything the agent sent before it has been handled. */
async function roundTrip(a: RawAgent, seq: number): Promise<void> {
  const running = [...a.held].map(([jobId, epoch]) => ({ jobId, epoch }));
  a.send({ type: "heartbeat", seq, status: "busy", running });
  await a.next((m) => m.type === "heartbeat:ack" && m.seq === seq, 10_000);
}

describe("races", () => {
  test("a cancel requested while the agent was disconnected reaches it on hello", async () => {
    const a = await t.agent({ capabilities: ["race.cancel"] });
    a.startHeartbeats(100);
    await a.connect();
    const job = await t.api.submit({ capability: "race.cancel" });
    const pushed = await a.nextJob();
    await a.request({ type: "job:started", jobId: job.id, epoch: pushed.epoch });
    await a.close();
    const flagged = await t.api.call("POST", `/v1/jobs/${job.id}/cancel`);
    assert.equal(flagged.body.status, "running");
    await a.connect([{ jobId: job.id, epoch: pushed.epoch }]);
    const cancel = await a.next((m) => m.type === "job:cancel");
    assert.deepEqual(cancel, { type: "job:cancel", jobId: job.id, epoch: pushed.epoch });
    await a.request({ type: "job:cancelled", jobId: job.id, epoch: pushed.epoch });
    assert.equal((await t.api.get(job.id)).status, "cancelled");
  });

  test("a job failed at its deadline keeps its slot until the agent has stopped it", async () => {
    const a = await t.agent({ capabilities: ["race.deadline"], capacity: 1 });
    // Heartbeats keep the link alive and, like a real agent's, list the job until it has stopped.
    a.startHeartbeats(100);
    await a.connect();
    const slow = await t.api.submit({ capability: "race.deadline", timeoutSecs: 1 });
    const pushed = await a.nextJob();
    await a.request({ type: "job:started", jobId: slow.id, epoch: pushed.epoch });
    await t.api.waitFor(slow.id, (j) => j.status === "failed");
    await a.next((m) => m.type === "job:cancel" && m.jobId === slow.id);
    const next = await t.api.submit({ capability: "race.deadline" });
    // The agent is still stopping the job (it lists it): the freed slot would only earn a rejection.
    for (let seq = 1; seq <= 3; seq++) await roundTrip(a, seq);
    assert.equal(
      a.received.some((m) => m.type === "job:assign"),
      false,
    );
    assert.equal((await t.api.get(next.id)).status, "queued");
    const late = await a.request({ type: "job:cancelled", jobId: slow.id, epoch: pushed.epoch });
    assert.equal(late.type === "nack" && late.status, 409);
    assert.equal((await a.nextJob()).id, next.id);
  });

  test("frames sent right behind the hello wait for the welcome", async () => {
    for (let i = 0; i < 10; i++) {
      const a = await t.agent({ capabilities: ["race.hello"] });
      const ws = new WebSocket(`${t.server.url.replace("http", "ws")}/v1/agent/ws`, {
        headers: { authorization: `Bearer ${a.token}` },
      });
      const got: ServerToAgent[] = [];
      let closed = false;
      ws.on("message", (d) => {
        const parsed = JSON.parse(d.toString()) as ServerToAgent | ServerToAgent[];
        got.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      });
      ws.on("close", () => {
        closed = true;
      });
      await new Promise((resolve) => ws.once("open", resolve));
      ws.send(JSON.stringify({ type: "hello", protocolVersion: 1, running: [] }));
      await new Promise((resolve) => setImmediate(resolve));
      ws.send(JSON.stringify({ type: "heartbeat", seq: 1, status: "idle", running: [] }));
      const end = Date.now() + 10_000;
      while (!got.some((m) => m.type === "heartbeat:ack") && !closed && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(closed, false, `closed after ${JSON.stringify(got)}`);
      assert.deepEqual(
        got.map((m) => m.type),
        ["welcome", "heartbeat:ack"],
      );
      ws.close();
    }
  });
});

describe("health and version", () => {
  test("an agent whose heartbeat reports an error gets no work until it reports otherwise", async () => {
    const sick = await t.agent({ capabilities: ["race.health"], tier: 9 });
    const well = await t.agent({ capabilities: ["race.health"], tier: 1 });
    well.startHeartbeats(100);
    await sick.connect();
    await well.connect();
    let status: "error" | "idle" = "error";
    let seq = 0;
    const beat = async () => {
      sick.send({ type: "heartbeat", seq: ++seq, status, running: [] });
      const mine = seq;
      await sick.next((m) => m.type === "heartbeat:ack" && m.seq === mine);
    };
    const beats = setInterval(() => void beat().catch(() => {}), 100);
    try {
      await beat();
      const first = await t.api.submit({ capability: "race.health" });
      assert.equal((await well.nextJob()).id, first.id, "the higher tier is skipped while in error");
      status = "idle";
      await beat();
      const second = await t.api.submit({ capability: "race.health" });
      assert.equal((await sick.nextJob()).id, second.id);
    } finally {
      clearInterval(beats);
    }
  });

  test("a hello with another protocol version is refused: an error frame and close over WS, 400 over HTTP", async () => {
    const a = await t.agent({ capabilities: ["race.version"] });
    const ws = new WebSocket(`${t.server.url.replace("http", "ws")}/v1/agent/ws`, {
      headers: { authorization: `Bearer ${a.token}` },
    });
    const frames: ServerToAgent[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((resolve) => ws.once("open", resolve));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send(JSON.stringify({ type: "hello", protocolVersion: 2, running: [] }));
    assert.equal(await closed, 1002);
    assert.equal(frames[0]?.type === "error" && frames[0].error.code, "agent_protocol_version");
    const http = await post(
      `${t.server.url}/v1/agent/messages`,
      { messages: [{ type: "hello", protocolVersion: 99, running: [] }] },
      { authorization: `Bearer ${a.token}` },
    );
    assert.equal(http.status, 400);
    assert.equal(http.body.error.code, "agent_protocol_version");
  });
});

describe("large frames", () => {
  // The big agent's heartbeats queue behind its own 10,000 messages: on a loaded machine working
  // through them takes longer than FAST's 1 s lease, and the tail would be refused as stale.
  let slow: TestServer;
  before(async () => {
    slow = await testServer({ ...FAST, leaseSecs: 30 });
  });
  after(() => slow.close());

  test("a frame of 10,000 messages is handled in slices: acks flow early and another link gets its turn", async () => {
    const t = slow;
    const big = await t.agent({ capabilities: ["race.big"] });
    const other = await t.agent({ capabilities: ["race.other"] });
    big.startHeartbeats(100);
    other.startHeartbeats(100);
    await big.connect();
    await other.connect();
    const job = await t.api.submit({ capability: "race.big" });
    const pushed = await big.nextJob();
    await big.request({ type: "job:started", jobId: job.id, epoch: pushed.epoch });
    const first = 1000;
    const last = first + 10_000 - 1;
    big.send(
      Array.from({ length: 10_000 }, (_, i) => ({
        type: "job:progress" as const,
        ref: first + i,
        jobId: job.id,
        epoch: pushed.epoch,
        progress: { percent: 50 },
      })),
    );
    // Handled in one go, all 10,000 acks would come back in one frame, after ~0.9 s of blocked loop.
    await big.next((m) => m.type === "ack" && m.ref === first, 60_000);
    const isLast = (m: ServerToAgent) => m.type === "ack" && m.ref === last;
    assert.equal(big.received.some(isLast), false, "the first acks left before the frame was done");
    other.send({ type: "heartbeat", seq: 7, status: "idle", running: [] });
    await other.next((m) => m.type === "heartbeat:ack" && m.seq === 7, 60_000);
    assert.equal(big.received.some(isLast), false, "another link was answered while the frame was worked through");
    await big.next(isLast, 120_000);
    const refs = big.received.filter((m) => m.type === "ack").map((m) => (m as { ref: number }).ref);
    assert.deepEqual(
      refs,
      [...refs].sort((x, y) => x - y),
      "acks in the order sent",
    );
  });
});
