import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { startServer } from "@gantry/server";
import { Api } from "./helpers/api.ts";
import { post, RawAgent } from "./helpers/raw-agent.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { fillDisk, mountTmpfs } from "./helpers/tmpfs.ts";

/**
 * A failure that is not the agent's fault (here: the server's disk is full) is answered as retryable,
 * so the agent keeps its result and sends it again; before, it was a final 400 and the result was
 * dropped, leaving the job running forever. Needs a small tmpfs, so root.
 */
const dir = tempDir("gantry-full-");
const unmount = mountTmpfs(dir.path, "size=6m");
const mounted = typeof unmount === "function";
after(() => {
  if (typeof unmount === "function") unmount();
  dir.remove();
});

test("a full disk answers agent messages 507 storage_full over WS and HTTP; the resent result lands once space is back", {
  skip: mounted ? false : "cannot mount a tmpfs here (needs root); skipped",
}, async () => {
  const server = await startServer({
    port: 0,
    dataDir: join(dir.path, "data"),
    heartbeatIntervalSecs: 0.5,
    leaseSecs: 60,
    sweepIntervalMs: 50,
    logLevel: "silent",
  });
  try {
    const api = new Api(server.url, server.bootstrap.clientKey);
    const ws = await RawAgent.enrol(server.url, server.bootstrap.agentKey, { capabilities: ["full.ws"] });
    await ws.connect();
    const wsJob = await api.submit({ capability: "full.ws" });
    const wsPush = await ws.nextJob();
    await ws.request({ type: "job:started", jobId: wsJob.id, epoch: wsPush.epoch });

    // The same over the long-poll transport.
    const http = await RawAgent.enrol(server.url, server.bootstrap.agentKey, { capabilities: ["full.http"] });
    const auth = { authorization: `Bearer ${http.token}` };
    const say = async (messages: unknown[]) => (await post(`${server.url}/v1/agent/messages`, { messages }, auth)).body;
    await say([{ type: "hello", protocolVersion: 1, running: [] }]);
    const httpJob = await api.submit({ capability: "full.http" });
    const polled = await fetch(`${server.url}/v1/agent/jobs/next?wait=20&max=1`, { headers: auth });
    const httpPush = ((await polled.json()) as { jobs: Array<{ id: string; epoch: number }> }).jobs[0]!;
    assert.equal(httpPush.id, httpJob.id);
    await say([{ type: "job:started", ref: 1, jobId: httpJob.id, epoch: httpPush.epoch }]);

    const output = "x".repeat(400_000); // grows the WAL past what is left
    const wsDone = { type: "job:completed", jobId: wsJob.id, epoch: wsPush.epoch, output };
    const httpDone = { type: "job:completed", ref: 2, jobId: httpJob.id, epoch: httpPush.epoch, output };
    const filler = join(dir.path, "filler");
    fillDisk(filler);
    const wsRef = ws.nextRef();
    ws.send({ ...wsDone, ref: wsRef } as never);
    const refused = await ws.next((m) => (m.type === "ack" || m.type === "nack") && m.ref === wsRef, 20_000);
    assert.equal(refused.type, "nack");
    assert.equal(refused.type === "nack" && refused.status, 507);
    assert.equal(refused.type === "nack" && refused.error.code, "storage_full");
    const httpRefused = (await say([httpDone])).replies.find((r: { ref?: number }) => r.ref === 2);
    assert.equal(httpRefused.type, "nack");
    assert.equal(httpRefused.status, 507);
    assert.equal((await api.get(wsJob.id)).status, "running");

    // Space comes back; the agent sends the same messages again and they land.
    rmSync(filler);
    const again = await ws.request(wsDone);
    assert.equal(again.type, "ack");
    const httpAgain = (await say([httpDone])).replies.find((r: { ref?: number }) => r.ref === 2);
    assert.equal(httpAgain.type, "ack");
    assert.equal((await api.get(wsJob.id)).status, "completed");
    assert.equal((await api.get(httpJob.id)).status, "completed");
    await ws.close();
  } finally {
    await server.close();
  }
});
