import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import OpenAI from "openai";
import { CHATML_TEMPLATE, modelsDir } from "../packages/agent/src/executors/llm/testing/models-dir.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * The OpenAI-compatible routes, driven by the official `openai` client against a real server and a
 * real agent running generated GGUF models (random weights: the text is noise, but real tokens).
 */
const dir = tempDir();
let t: TestServer;
let agent: Agent;
let openai: OpenAI;
let models: Awaited<ReturnType<typeof modelsDir>>;
before(async () => {
  models = await modelsDir({
    "tiny-a": { seed: 1, chatTemplate: CHATML_TEMPLATE },
    // Big enough that a long answer takes a while on a CPU (for the cancel test).
    slow: { seed: 3, contextLength: 4096, embedding: 256, blocks: 4, feedForward: 512, chatTemplate: CHATML_TEMPLATE },
  });
  t = await testServer();
  agent = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "agent.json"),
    modelsDir: models.dir,
    gpu: "off",
    logLevel: "silent",
    print: () => {},
    statusServer: false,
    metrics: false,
  });
  openai = new OpenAI({ baseURL: `${t.server.url}/v1`, apiKey: t.server.bootstrap.clientKey, maxRetries: 0 });
  // The agent is online once its link is up (startAgent resolves before that).
  while ((await openai.models.list()).data.length < 2) await sleep(100);
});
after(async () => {
  await agent?.stop({ drainTimeoutMs: 0 });
  await t?.close();
  await models?.remove();
  dir.remove();
});

const jobIdOf = (id: string) => id.replace(/^(chatcmpl|cmpl)-/, "");

test("GET /v1/models lists the llm models online, with their attributes", async () => {
  const list = await openai.models.list();
  const ids = list.data.map((m) => m.id);
  assert.deepEqual(ids, ["slow", "tiny-a"]);
  const tiny = list.data.find((m) => m.id === "tiny-a") as unknown as { attributes: Record<string, string> };
  assert.equal(tiny.attributes.ctx, "256");
});

test("chat: a non-streamed answer is one job; streamed, the chunks add up to the same text", async () => {
  const ask = { model: "tiny-a", messages: [{ role: "user" as const, content: "hello" }], max_tokens: 12 };
  const res = await openai.chat.completions.create({ ...ask, temperature: 0 });
  assert.equal(res.object, "chat.completion");
  assert.equal(res.choices[0]?.finish_reason, "length");
  assert.equal(res.usage?.completion_tokens, 12);
  assert.ok((res.usage?.prompt_tokens ?? 0) > 0);
  const text = res.choices[0]?.message.content ?? "";
  assert.ok(text.length > 0);
  const job = await t.api.get(jobIdOf(res.id));
  assert.equal(job.capability, "llm.tiny-a");
  assert.equal(job.status, "completed");

  const stream = await openai.chat.completions.create({
    ...ask,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  const pieces: string[] = [];
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined | null;
  let role: string | undefined;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    const c = chunk.choices[0];
    role ??= c?.delta.role;
    if (c?.delta.content) pieces.push(c.delta.content);
    if (c?.finish_reason) finish = c.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(role, "assistant");
  assert.equal(pieces.join(""), text, "greedy decoding: the streamed text is the same as the answer");
  assert.ok(pieces.length > 1, "streamed in more than one chunk");
  assert.equal(finish, "length");
  assert.equal(usage?.completion_tokens, 12);
});

test("completions: prompt in, text out, streamed or not", async () => {
  const res = await openai.completions.create({ model: "tiny-a", prompt: "the cat", max_tokens: 6, temperature: 0 });
  assert.equal(res.object, "text_completion");
  assert.equal(res.choices[0]?.finish_reason, "length");
  assert.equal(res.usage?.completion_tokens, 6);
  const stream = await openai.completions.create({
    model: "tiny-a",
    prompt: "the cat",
    max_tokens: 6,
    temperature: 0,
    stream: true,
  });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, res.choices[0]?.text);
});

test("embeddings: one vector per input, as floats or base64 (the client's default)", async () => {
  const floats = await openai.embeddings.create({
    model: "tiny-a",
    input: ["a cat", "a dog"],
    encoding_format: "float",
  });
  assert.equal(floats.data.length, 2);
  const dims = floats.data[0]!.embedding.length;
  assert.ok(dims > 0);
  assert.ok(floats.usage.prompt_tokens > 0);
  const b64 = await openai.embeddings.create({ model: "tiny-a", input: "a cat" });
  assert.equal(b64.data[0]!.embedding.length, dims);
  for (let i = 0; i < dims; i++) {
    assert.ok(Math.abs(b64.data[0]!.embedding[i]! - floats.data[0]!.embedding[i]!) < 1e-5);
  }
});

test("errors come in OpenAI's shape: unknown model 404, bad body 400, no key 401, oversized body 413", async () => {
  const unknown = await openai.chat.completions
    .create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })
    .catch((e: unknown) => e);
  assert.ok(unknown instanceof OpenAI.NotFoundError, String(unknown));
  assert.equal(unknown.code, "model_not_found");
  assert.equal(unknown.type, "not_found_error");

  const bad = await openai.chat.completions
    .create({ model: "tiny-a", messages: [] as OpenAI.ChatCompletionMessageParam[] })
    .catch((e: unknown) => e);
  assert.ok(bad instanceof OpenAI.BadRequestError, String(bad));
  assert.equal(bad.code, "validation_failed");
  assert.equal(bad.type, "invalid_request_error");
  assert.equal(bad.param, "messages");

  const anon = new OpenAI({ baseURL: `${t.server.url}/v1`, apiKey: "gnt_c_not-a-key", maxRetries: 0 });
  const denied = await anon.models.list().catch((e: unknown) => e);
  assert.ok(denied instanceof OpenAI.AuthenticationError, String(denied));

  const huge = await fetch(`${t.server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.server.bootstrap.clientKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny-a", messages: [{ role: "user", content: "x".repeat(1_100_000) }] }),
  });
  assert.equal(huge.status, 413);
  const body = (await huge.json()) as { error: { type: string; code: string; param: unknown; message: string } };
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(body.error.code, "payload_too_large");

  // Other routes keep the Gantry envelope.
  const native = await t.api.call("POST", "/v1/jobs", {});
  assert.equal(native.status, 400);
  assert.equal(typeof native.body.error.details, "object");
  assert.equal(native.body.error.type, undefined);
});

test("a client that goes away mid-stream cancels its job", async () => {
  const ac = new AbortController();
  const stream = await openai.chat.completions.create(
    { model: "slow", messages: [{ role: "user", content: "go on" }], max_tokens: 3000, stream: true },
    { signal: ac.signal },
  );
  let id = "";
  let got = 0;
  try {
    for await (const chunk of stream) {
      id = chunk.id;
      if (chunk.choices[0]?.delta.content && ++got === 2) ac.abort();
    }
  } catch {
    // the client's abort: either way the connection is closed
  }
  assert.ok(id);
  const job = await t.api.waitFor(jobIdOf(id), (j) => j.status === "cancelled", 30_000);
  assert.equal(job.status, "cancelled");
});

test("a client that goes away before a non-streamed answer cancels its job", async () => {
  const ac = new AbortController();
  const request = openai.chat.completions
    .create({ model: "slow", messages: [{ role: "user", content: "go on" }], max_tokens: 3000 }, { signal: ac.signal })
    .catch((e: unknown) => e);
  let running: { id: string } | undefined;
  while (!running) {
    const page = await t.api.call("GET", "/v1/jobs?capability=llm.slow&status=running");
    running = page.body.jobs[0];
    if (!running) await sleep(20);
  }
  ac.abort();
  assert.ok((await request) instanceof Error);
  const job = await t.api.waitFor(running.id, (j) => j.status === "cancelled", 30_000);
  assert.equal(job.status, "cancelled");
});
