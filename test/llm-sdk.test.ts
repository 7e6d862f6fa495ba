import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import { type EventsTransport, GantryClient, JobCancelledError } from "@gantry/client";
import { CHATML_TEMPLATE, modelsDir } from "../packages/agent/src/executors/llm/testing/models-dir.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * `client.llm` against a real server and a real agent with generated models: the token stream over
 * each transport, and, through the whole system, the llm behaviours the issue lists (stop strings,
 * seeds, cancel mid-generation, a swap between two models on one agent, embeddings).
 */
const dir = tempDir();
let t: TestServer;
let agent: Agent;
let models: Awaited<ReturnType<typeof modelsDir>>;
const clients: GantryClient[] = [];
const client = (events: EventsTransport = "ws") => {
  const c = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey, events });
  clients.push(c);
  return c;
};
before(async () => {
  models = await modelsDir({
    "tiny-a": { seed: 1, chatTemplate: CHATML_TEMPLATE },
    "tiny-b": { seed: 2, chatTemplate: CHATML_TEMPLATE },
    // Big enough that a long answer takes a while on a CPU: its tokens come in many events.
    slow: { seed: 3, contextLength: 4096, embedding: 256, blocks: 4, feedForward: 512 },
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
  while ((await client().capabilities()).filter((c) => c.name.startsWith("llm.")).length < 3) await sleep(100);
});
after(async () => {
  for (const c of clients) c.close();
  await agent?.stop({ drainTimeoutMs: 0 });
  await t?.close();
  await models?.remove();
  dir.remove();
});

for (const events of ["mqtt", "ws", "poll"] as const) {
  test(`llm.complete over ${events}: the token pieces join to the output's text, in order`, async () => {
    const c = client(events);
    const run = await c.llm.complete("slow", "once upon", { max_tokens: 120, temperature: 0 });
    const pieces: string[] = [];
    for await (const piece of run.tokens) pieces.push(piece);
    const done = await run.wait();
    assert.equal(done.status, "completed");
    assert.equal(pieces.join(""), done.output.text);
    assert.equal(await run.text(), done.output.text);
    assert.equal(done.output.finish_reason, "length");
    if (events !== "poll") assert.ok(pieces.length > 1, `tokens streamed live over ${events}: ${pieces.length}`);
  });
}

test("stop strings end the text before them (finish_reason stop); max_tokens gives length", async () => {
  const c = client();
  const full = await (await c.llm.complete("tiny-a", "a dog", { max_tokens: 40, temperature: 0 })).wait();
  assert.equal(full.output.finish_reason, "length");
  assert.equal(full.output.tokens_used, 40);
  const text = full.output.text;
  const at = text.slice(3).search(/[a-z]{2}/) + 3;
  const stop = text.slice(at, at + 2);
  const cut = text.indexOf(stop);
  assert.ok(cut > 0, `no usable stop string in ${JSON.stringify(text)}`);
  const run = await c.llm.complete("tiny-a", "a dog", { max_tokens: 40, temperature: 0, stop: [stop] });
  const pieces: string[] = [];
  for await (const p of run.tokens) pieces.push(p);
  const out = (await run.wait()).output;
  assert.equal(out.finish_reason, "stop");
  assert.equal(out.text, text.slice(0, cut));
  assert.equal(pieces.join(""), out.text, "the stop string never reached the stream");
});

test("the same seed gives the same sampled text across jobs", async () => {
  const c = client();
  const sample = async (seed: number) =>
    (await c.llm.complete("tiny-a", "it is", { max_tokens: 16, temperature: 1, seed })).text();
  assert.equal(await sample(42), await sample(42));
  const others = new Set([await sample(1), await sample(2), await sample(3)]);
  assert.ok(others.size > 1, "seeds change the sample");
});

test("cancel mid-generation: the token stream ends with JobCancelledError, the job is cancelled", async () => {
  const c = client();
  const run = await c.llm.chat("slow", [{ role: "user", content: "tell me" }], { max_tokens: 3000 });
  let got = 0;
  await assert.rejects(async () => {
    for await (const _ of run.tokens) if (++got === 2) await run.cancel();
  }, JobCancelledError);
  assert.ok(got >= 2);
  const job = await c.get(run.id);
  assert.equal(job.status, "cancelled");
});

test("chat keeps a history; jobs for two models on one agent swap the loaded model and all complete", async () => {
  const c = client();
  const history = [{ role: "user" as const, content: "hi" }];
  const a1 = await (await c.llm.chat("tiny-a", history, { max_tokens: 8, temperature: 0 })).text();
  const b = await (await c.llm.chat("tiny-b", history, { max_tokens: 8, temperature: 0 })).text();
  const a2 = await (await c.llm.chat("tiny-a", history, { max_tokens: 8, temperature: 0 })).text();
  assert.equal(a1, a2, "the model swapped back in answers as before");
  assert.notEqual(a1, b, "two models, two answers");
  const more = [...history, { role: "assistant" as const, content: a1 }, { role: "user" as const, content: "and?" }];
  const run = await c.llm.chat("tiny-a", more, { max_tokens: 8, temperature: 0 });
  assert.ok((await run.wait()).output.prompt_tokens > 0);
});

test("embeddings through the SDK: a vector of the model's dimension, the same for the same text", async () => {
  const c = client();
  const [x, y] = [await c.llm.embed("tiny-a", "a cat"), await c.llm.embed("tiny-a", "a cat")];
  assert.ok(x.output.dimensions > 0);
  assert.equal(x.output.embedding.length, x.output.dimensions);
  assert.deepEqual(x.output.embedding, y.output.embedding);
});
