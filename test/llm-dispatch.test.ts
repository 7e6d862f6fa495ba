/**
 * Model-aware dispatch with real agents and generated GGUF models: a job goes to the agent that has
 * its model loaded, is never held back when only an agent that must swap is free, and a model an
 * agent quarantines is withdrawn from the server at once, on the same connection.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import type { AgentView, Job } from "@gantry/protocol";
import { tinyLlamaGguf } from "../packages/agent/src/executors/llm/testing/gguf-writer.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { FAST, sleep, type TestServer, testServer } from "./helpers/test-server.ts";

const dir = tempDir();
let t: TestServer;
const agents: Agent[] = [];
before(async () => {
  // Heartbeats (and with them the executors' health checks, 2 s to answer) once a second: a check every
  // 200 ms (FAST) on a loaded 2-core machine timed out now and then, and an unhealthy agent gets no work.
  t = await testServer({ ...FAST, heartbeatIntervalSecs: 1, leaseSecs: 5 });
});
after(async () => {
  for (const a of agents) await a.stop({ drainTimeoutMs: 0 });
  await t?.close();
  dir.remove();
});

/** An agent whose models directory holds the given files (name → bytes). */
async function llmAgent(name: string, models: Record<string, Uint8Array>, allowShell = false): Promise<Agent> {
  const modelsDir = join(dir.path, name, "models");
  mkdirSync(modelsDir, { recursive: true });
  for (const [file, bytes] of Object.entries(models)) writeFileSync(join(modelsDir, file), bytes);
  const agent = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, name, "agent.json"),
    dataDir: join(dir.path, name, "data"),
    modelsDir,
    gpu: "off",
    allowShell,
    logLevel: "silent",
    print: () => {},
    statusServer: false,
    metrics: false,
  });
  agents.push(agent);
  return agent;
}

async function view(agentId: string): Promise<AgentView> {
  const { body } = await t.api.call("GET", "/v1/agents");
  return (body.agents as AgentView[]).find((a) => a.id === agentId)!;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function run(model: string, timeoutMs = 60_000): Promise<Job> {
  const job = await t.api.submit({ capability: model, payload: { prompt: "hi", max_tokens: 4, temperature: 0 } });
  const done = await t.api.waitTerminal(job.id, timeoutMs);
  assert.equal(done.status, "completed", JSON.stringify(done.attempts));
  return done;
}

const modelA = tinyLlamaGguf({ seed: 1 });
const modelB = tinyLlamaGguf({ seed: 2 });
let warmA: Agent;
let warmB: Agent;

test("jobs go to the agent that has their model loaded", async () => {
  // Each agent first has one model, so the warm-up jobs land where they must; then each gets the
  // other model too (a watched directory: the agent tells the server on the same connection).
  warmA = await llmAgent("warm-a", { "tiny-a.gguf": modelA }, true);
  warmB = await llmAgent("warm-b", { "tiny-b.gguf": modelB });
  assert.equal((await run("llm.tiny-a")).attempts[0]?.agentId, warmA.agentId);
  assert.equal((await run("llm.tiny-b")).attempts[0]?.agentId, warmB.agentId);
  copyFileSync(join(dir.path, "warm-a", "models", "tiny-a.gguf"), join(dir.path, "warm-b", "models", "tiny-a.gguf"));
  copyFileSync(join(dir.path, "warm-b", "models", "tiny-b.gguf"), join(dir.path, "warm-a", "models", "tiny-b.gguf"));
  for (const [agent, loaded] of [
    [warmA, "llm.tiny-a"],
    [warmB, "llm.tiny-b"],
  ] as const) {
    await until(`${agent.agentId} to offer both models with ${loaded} loaded`, async () => {
      const v = await view(agent.agentId);
      const names = v.capabilities.map((c) => c.split("[")[0]);
      return (
        names.includes("llm.tiny-a") && names.includes("llm.tiny-b") && v.metrics?.loadedModels?.join() === loaded && v
      );
    });
  }
  // One at a time, so both agents are free for each job: without the preference the first agent in
  // the index would take all of them, swapping models every time.
  for (const model of ["llm.tiny-b", "llm.tiny-a", "llm.tiny-b", "llm.tiny-a"]) {
    // Both free and healthy (an agent whose health check is late reports "error" and gets nothing).
    const views = await until("both agents idle", async () => {
      const vs = [await view(warmA.agentId), await view(warmB.agentId)];
      return vs.every((v) => v.status === "idle") && vs;
    });
    const before = JSON.stringify(views.map((v) => [v.status, v.metrics, v.health]));

    const done = await run(model);
    assert.equal(done.attempts.length, 1);
    assert.equal(
      done.attempts[0]?.agentId,
      model === "llm.tiny-a" ? warmA.agentId : warmB.agentId,
      `${model} ${before}`,
    );
  }
});

test("a job is not held back when only an agent that must swap models is free", async () => {
  // warm-a (the only one with a shell) is kept busy; its model's job goes to warm-b, which swaps.
  const busy = await t.api.submit({ capability: "shell.bash", payload: { command: "sleep 3" } });
  await t.api.waitFor(busy.id, (j) => j.status === "running");
  const done = await run("llm.tiny-a");
  assert.equal(done.attempts[0]?.agentId, warmB.agentId);
  assert.equal((await t.api.get(busy.id)).status, "running", "the job did not wait for warm-a");
  await t.api.waitTerminal(busy.id);
  const v = await until("warm-b to report the swap", async () => {
    const x = await view(warmB.agentId);
    return x.metrics?.loadedModels?.join() === "llm.tiny-a" && x;
  });
  assert.deepEqual(v.metrics?.loadedModels, ["llm.tiny-a"]);
});

test("a model that fails to load is withdrawn from the server at once, without a reconnect", async () => {
  for (const a of agents.splice(0)) await a.stop({ drainTimeoutMs: 0 });
  const broken = modelA.subarray(0, modelA.length - 4096); // its header still reads
  const bad = await llmAgent("quarantine", { "tiny-q.gguf": broken, "tiny-ok.gguf": modelB });
  // Watched throughout: a reconnect (hello) would carry the new list too, and must not be how it got there.
  await until("the agent to connect", async () => bad.status().connection === "ready");
  const states = new Set<string>();
  const watch = setInterval(() => states.add(bad.status().connection), 5);
  assert.ok((await view(bad.agentId)).capabilities.some((c) => c.startsWith("llm.tiny-q[")));
  const job = await t.api.submit({
    capability: "llm.tiny-q",
    payload: { prompt: "x", max_tokens: 2 },
    maxAttempts: 5,
    backoffMs: 1000,
  });
  await t.api.waitFor(job.id, (j) => j.attempts.some((a) => a.error?.category === "model"), 60_000);
  await until("the quarantined model to leave the agent's capabilities", async () => {
    const v = await view(bad.agentId);
    return !v.capabilities.some((c) => c.startsWith("llm.tiny-q")) && v;
  });
  const { body } = await t.api.call("GET", "/v1/capabilities");
  const summary = (body.capabilities as Array<{ name: string; agents: number }>).find((c) => c.name === "llm.tiny-q");
  assert.equal(summary?.agents ?? 0, 0, "no online agent offers the quarantined model");
  // The job waits in the queue instead of bouncing off the agent that cannot load it.
  await sleep(500);
  const waiting = await t.api.get(job.id);
  assert.equal(waiting.status, "queued");
  assert.equal(waiting.attempts.length, 1);
  const v = await view(bad.agentId);
  assert.equal(v.online, true);
  clearInterval(watch);
  assert.deepEqual([...states], ["ready"], "the same connection throughout");
  // The other model on that agent is still served.
  assert.equal((await run("llm.tiny-ok")).attempts[0]?.agentId, bad.agentId);
});
