import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
let agent: Agent;
const dir = tempDir();

before(async () => {
  t = await testServer();
  agent = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "agent.json"),
    executors: [new URL("./fixtures/model-executor.ts", import.meta.url).href],
    logLevel: "silent",
    print: () => {},
    statusServer: false,
  });
});
after(async () => {
  await agent.stop({ drainTimeoutMs: 0 });
  await t.close();
  dir.remove();
});

async function agentView(pred: (v: any) => boolean): Promise<any> {
  for (let i = 0; i < 400; i++) {
    const v = (await t.api.call("GET", "/v1/agents")).body.agents.find((a: { id: string }) => a.id === agent.agentId);
    if (v && pred(v)) return v;
    await sleep(25);
  }
  assert.fail("the agent view never matched");
}

test("heartbeats carry metrics, and an executor's health hook (a loaded model answering) reaches GET /v1/agents", async () => {
  const loaded = await t.api.submit({ capability: "test.model", payload: { action: "load" } });
  assert.equal((await t.api.waitTerminal(loaded.id)).status, "completed");
  const healthy = await agentView((v) => v.health?.healthy === true && v.metrics?.uptimeSecs !== undefined);
  assert.ok(healthy.metrics.memoryTotalMb > 0);
  assert.deepEqual(healthy.health.issues, []);

  const healWhen = join(dir.path, "healed");
  const broken = await t.api.submit({ capability: "test.model", payload: { action: "break", healWhen } });
  assert.equal((await t.api.waitTerminal(broken.id)).status, "completed");
  const sick = await agentView((v) => v.health?.healthy === false);
  assert.deepEqual(sick.health.issues, ["test.model: model is not answering"]);
  assert.equal(sick.status, "error");
  // An agent reporting an error gets no work until it reports otherwise: the job waits for the heal.
  const waiting = await t.api.submit({ capability: "test.model", payload: { action: "load" } });
  assert.equal((await t.api.get(waiting.id)).status, "queued");
  writeFileSync(healWhen, "");
  assert.equal((await t.api.waitTerminal(waiting.id)).status, "completed");
});

test("stopping the agent unloads what executors hold", async () => {
  const marker = join(dir.path, "unloaded");
  const job = await t.api.submit({ capability: "test.model", payload: { action: "load", marker } });
  assert.equal((await t.api.waitTerminal(job.id)).status, "completed");
  await agent.stop({ drainTimeoutMs: 1000 });
  assert.equal(readFileSync(marker, "utf8"), "unloaded");
});
