import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type GantryServer, startServer } from "@gantry/server";
import { Api } from "./helpers/api.ts";
import { RawAgent } from "./helpers/raw-agent.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";
import { fillDisk, mountTmpfs } from "./helpers/tmpfs.ts";

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test("a full disk: writes answer 507 storage_full, /healthz is degraded, and the queue resumes when space returns", async (t) => {
  const dir = tempDir();
  const mount = join(dir.path, "disk");
  const unmount = mountTmpfs(mount, "size=16m");
  if (typeof unmount === "string") {
    dir.remove();
    return t.skip(unmount);
  }
  let server: GantryServer | undefined;
  let agent: RawAgent | undefined;
  try {
    server = await startServer({ port: 0, dataDir: join(mount, "data"), logLevel: "silent", sweepIntervalMs: 200 });
    const api = new Api(server.url, server.bootstrap.clientKey);
    agent = await RawAgent.enrol(server.url, server.bootstrap.agentKey, { capabilities: ["disk.test"], capacity: 1 });
    await agent.connect();
    const first = await api.submit({ capability: "disk.test", payload: {} });
    const held = await agent.nextJob(20_000);
    assert.equal(held.id, first.id);
    assert.equal((await agent.request({ type: "job:started", jobId: held.id, epoch: held.epoch })).type, "ack");
    const queued = await api.submit({ capability: "disk.test", payload: { n: 2 } });

    fillDisk(join(mount, "filler"));
    // The WAL may still have room in pages it already owns: write until the disk really refuses.
    const big = { s: "x".repeat(32 * 1024) };
    const refused = await until("a 507", async () => {
      const r = await api.call("POST", "/v1/jobs", { capability: "disk.other", payload: big });
      return r.status === 507 ? r : undefined;
    });
    assert.equal(refused.body.error.code, "storage_full");
    for (const [path, body] of [
      ["/v1/jobs", { capability: "disk.other", payload: big }],
      ["/v1/jobs/batch", { jobs: [{ capability: "disk.other", payload: big }] }],
    ] as const) {
      const r = await api.call("POST", path, body);
      assert.equal(r.status, 507, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, "storage_full");
    }
    const health = await (await fetch(`${server.url}/healthz`)).json();
    assert.equal(health.status, "degraded");
    assert.equal(health.issues[0].code, "storage_full");
    // The agent's result cannot be recorded now; it is refused (not dropped as done).
    const during = await agent.request({ type: "job:completed", jobId: held.id, epoch: held.epoch, output: { ok: 1 } });
    assert.equal(during.type, "nack");

    rmSync(join(mount, "filler"));
    await until("healthz ok", async () => {
      const h = await (await fetch(`${server!.url}/healthz`)).json();
      return h.status === "ok" ? h : undefined;
    });
    // Resent, the result is recorded, the slot frees and the queued job moves on: no restart.
    const resent = await agent.request({ type: "job:completed", jobId: held.id, epoch: held.epoch, output: { ok: 1 } });
    assert.equal(resent.type, "ack", JSON.stringify(resent));
    assert.equal((await api.get(first.id)).status, "completed");
    assert.equal((await agent.nextJob(30_000)).id, queued.id);
    assert.equal((await api.call("POST", "/v1/jobs", { capability: "disk.other" })).status, 201);
  } finally {
    await agent?.close();
    await server?.close().catch(() => {});
    unmount();
    dir.remove();
  }
});
