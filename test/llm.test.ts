import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import type { LlmCompletionOutput } from "@gantry/protocol";
import { tinyLlamaGguf } from "../packages/agent/src/executors/llm/testing/gguf-writer.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

const dir = tempDir();
let t: TestServer | undefined;
const agents: Agent[] = [];
after(async () => {
  for (const a of agents) await a.stop({ drainTimeoutMs: 0 });
  await t?.close();
  dir.remove();
});

/** An agent whose models directory holds `tiny-a.gguf`: good, or cut short (its header still reads). */
async function llmAgent(name: string, corrupt = false): Promise<Agent> {
  const models = join(dir.path, name, "models");
  const bytes = tinyLlamaGguf({ seed: 1 });
  mkdirSync(models, { recursive: true });
  writeFileSync(join(models, "tiny-a.gguf"), corrupt ? bytes.subarray(0, bytes.length - 4096) : bytes);
  const agent = await startAgent({
    server: t!.server.url,
    key: t!.server.bootstrap.agentKey,
    configPath: join(dir.path, name, "agent.json"),
    modelsDir: models,
    gpu: "off",
    logLevel: "silent",
    print: () => {},
    statusServer: false,
    metrics: false,
  });
  agents.push(agent);
  return agent;
}

test("an agent offers llm.tiny-a from its models directory; a job for it completes with text", async () => {
  t = await testServer();
  const agent = await llmAgent("good");
  const cap = agent.capabilities.find((c) => c.startsWith("llm."));
  assert.equal(cap, "llm.tiny-a[gpu:cpu;ctx:256;quant:f32;size_mb:1]");
  const payload = { prompt: "the cat", max_tokens: 16, temperature: 0 };
  const job = await t.api.submit({ capability: "llm.tiny-a", payload });
  const done = await t.api.waitTerminal(job.id, 60_000);
  assert.equal(done.status, "completed", JSON.stringify(done.attempts));
  const out = done.output as LlmCompletionOutput;
  assert.ok(out.text.length > 0);
  assert.equal(out.tokens_used, 16);
  assert.equal(out.finish_reason, "length");
  assert.equal(done.attempts.at(-1)?.agentId, agent.agentId);
  assert.equal(done.progress?.message, out.text, "the streamed text ends as the output");
});

test("a corrupt GGUF fails the attempt as a model error; the job is requeued and completes on another agent", async () => {
  await agents.shift()!.stop({ drainTimeoutMs: 0 }); // only the corrupt copy is online
  const bad = await llmAgent("corrupt", true);
  const job = await t!.api.submit({
    capability: "llm.tiny-a",
    payload: { prompt: "a dog", max_tokens: 8, temperature: 0 },
    maxAttempts: 10,
    backoffMs: 50,
  });
  await t!.api.waitFor(job.id, (j) => j.attempts.some((a) => a.error?.category === "model"), 60_000);
  assert.notEqual((await t!.api.get(job.id)).status, "failed", "a model error is retried");
  // The corrupt agent leaves and a good one joins (test/llm-dispatch.test.ts: the quarantine withdraws
  // the model from the server while the agent stays).
  await agents.shift()!.stop({ drainTimeoutMs: 0 });
  const good = await llmAgent("good-2");
  const done = await t!.api.waitTerminal(job.id, 60_000);
  assert.equal(done.status, "completed", JSON.stringify(done.attempts));
  assert.equal(done.attempts[0]?.agentId, bad.agentId);
  assert.match(done.attempts[0]?.error?.message ?? "", /llm\.tiny-a failed to load/);
  assert.equal(done.attempts.at(-1)?.agentId, good.agentId);
});

test("an executor that lost its GPU drains the agent, which exits 1; the job goes back to the queue", async () => {
  const agent = await startAgent({
    server: t!.server.url,
    key: t!.server.bootstrap.agentKey,
    configPath: join(dir.path, "gpu", "agent.json"),
    executors: [new URL("./fixtures/gpu-lost-executor.ts", import.meta.url).href],
    builtinExecutors: false,
    logLevel: "silent",
    print: () => {},
    statusServer: false,
    metrics: false,
  });
  const job = await t!.api.submit({ capability: "test.gpu-lost", payload: {}, maxAttempts: 3, backoffMs: 50 });
  assert.equal(await agent.done, 1);
  const after = await t!.api.waitFor(job.id, (j) => j.attempts.some((a) => a.error?.code === "gpu_lost"));
  assert.equal(after.attempts[0]?.error?.category, "transient");
  assert.notEqual(after.status, "failed");
});
