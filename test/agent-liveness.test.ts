import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ServerToAgent } from "@gantry/protocol";
import { RawAgent } from "./helpers/raw-agent.ts";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * Leases follow what the agent says it holds: a heartbeat renews exactly the jobs it lists, is
 * answered with heartbeat:ack {seq, drop}, and a held job the agent stopped listing goes back while
 * the agent stays connected. Raw protocol agents over real sockets.
 */
let t: TestServer;
before(async () => {
  t = await testServer();
});
after(() => t.close());

type Ack = Extract<ServerToAgent, { type: "heartbeat:ack" }>;

describe("heartbeats and leases", () => {
  test("every heartbeat is answered with heartbeat:ack carrying its seq and the jobs to drop", async () => {
    const a = await t.agent({ capabilities: ["live.ack"] });
    await a.connect();
    const job = await t.api.submit({ capability: "live.ack" });
    const pushed = await a.nextJob();
    a.send({ type: "heartbeat", seq: 41, status: "busy", running: [{ jobId: job.id, epoch: pushed.epoch }] });
    const ok = (await a.next((m) => m.type === "heartbeat:ack" && m.seq === 41)) as Ack;
    assert.deepEqual(ok.drop, []);
    // A job that is not this agent's at that epoch is named in drop (so the agent aborts it).
    const stranger = { jobId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", epoch: 2 };
    a.send({
      type: "heartbeat",
      seq: 42,
      status: "busy",
      running: [{ jobId: job.id, epoch: pushed.epoch + 1 }, stranger],
    });
    const bad = (await a.next((m) => m.type === "heartbeat:ack" && m.seq === 42)) as Ack;
    assert.deepEqual(bad.drop, [{ jobId: job.id, epoch: pushed.epoch + 1 }, stranger]);
    // Without a seq, still answered.
    a.send({ type: "heartbeat", status: "busy", running: [] });
    const plain = (await a.next((m) => m.type === "heartbeat:ack")) as Ack;
    assert.equal(plain.seq, undefined);
  });

  test("a running job its still-connected agent no longer lists goes back (lost), and runs again", async () => {
    const a = await t.agent({ capabilities: ["live.running"], capacity: 1 });
    a.startHeartbeats(200);
    await a.connect();
    const job = await t.api.submit({ capability: "live.running", backoffMs: 0 });
    const first = await a.nextJob();
    assert.equal((await a.request({ type: "job:started", jobId: job.id, epoch: first.epoch })).type, "ack");
    // The agent lost the job (it restarted without it, its child died unseen) but stays connected and
    // keeps beating. Before, leases were renewed per agent and the job stayed running forever.
    a.held.clear();
    const again = await a.nextJob(20_000);
    assert.equal(again.id, job.id);
    assert.equal(again.epoch, first.epoch + 1);
    const record = await t.api.get(job.id);
    assert.equal(record.attempts[0]!.error?.category, "agent_lost");
    assert.equal(
      (await a.request({ type: "job:completed", jobId: job.id, epoch: again.epoch, output: 1 })).type,
      "ack",
    );
    assert.equal((await t.api.get(job.id)).status, "completed");
    await waitIdle(a.agentId);
  });

  test("a heartbeat does not renew a job it does not list: the lease lapses even while the agent beats", async () => {
    const a = await t.agent({ capabilities: ["live.unlisted"], capacity: 1 });
    await a.connect();
    const job = await t.api.submit({ capability: "live.unlisted", maxAttempts: 1 });
    const pushed = await a.nextJob();
    await a.request({ type: "job:started", jobId: job.id, epoch: pushed.epoch });
    // Beats that list nothing: the job must not stay running on them.
    a.held.clear();
    a.startHeartbeats(100);
    const ended = await t.api.waitFor(job.id, (j) => j.status !== "running", 20_000);
    assert.equal(ended.status, "failed");
    assert.ok(["agent_lost", "lease_expired"].includes(ended.attempts[0]!.error!.category));
    await waitIdle(a.agentId);
  });

  test("jobs pushed to an old link while the agent reconnects do not stay assigned", async () => {
    const a = await t.agent({ capabilities: ["live.relink"], capacity: 50 });
    await a.connect();
    // The agent reconnects on a second socket while jobs are being submitted: some are pushed to the
    // old link in the moment before the new hello replaces it. The new link never receives them.
    const old = a.ws!;
    const fresh = new RawAgent(a.url);
    Object.assign(fresh, { agentId: a.agentId, key: a.key, token: a.token });
    const submits = Array.from({ length: 20 }, (_, i) => t.api.submit({ capability: "live.relink", payload: { i } }));
    await fresh.connect();
    const jobs = await Promise.all(submits);
    old.terminate();
    fresh.startHeartbeats(100);
    const done = new Set<string>();
    while (done.size < jobs.length) {
      const j = await fresh.nextJob(20_000);
      await fresh.request({ type: "job:completed", jobId: j.id, epoch: j.epoch, output: null });
      done.add(j.id);
    }
    for (const j of jobs) assert.equal((await t.api.get(j.id)).status, "completed");
    await fresh.close();
  });
});

/** The agent shows no held jobs (no slot leaked). */
async function waitIdle(agentId: string): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const r = await t.api.call("GET", "/v1/agents");
    const view = (r.body.agents as Array<{ id: string; runningJobs: string[] }>).find((x) => x.id === agentId);
    if (view && view.runningJobs.length === 0) return;
    if (Date.now() > end) throw new Error(`agent ${agentId} still holds ${JSON.stringify(view?.runningJobs)}`);
    await sleep(50);
  }
}
