import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { LlmCompletionOutput, LlmEmbeddingOutput } from "@gantry/protocol";
import { LlmEngine } from "./llm-engine.ts";
import { LlmError } from "./llm-error.ts";
import { CHATML_TEMPLATE, modelsDir } from "./testing/models-dir.ts";

const fx = await modelsDir({ "tiny-a": { seed: 1 }, "tiny-chat": { seed: 3, chatTemplate: CHATML_TEMPLATE } });
let engine: LlmEngine;
const signal = new AbortController().signal;

before(async () => {
  const e = await LlmEngine.create({ modelsDir: fx.dir, gpu: "off", threads: 1, watch: false, sequences: 2 });
  assert.ok(e instanceof LlmEngine, String(e));
  engine = e;
});
after(async () => {
  await engine.unload();
  await fx.remove();
});

const complete = (payload: object, onToken?: (t: string) => void, s = signal) =>
  engine.run("llm.tiny-a", payload, { signal: s, ...(onToken ? { onToken } : {}) }) as Promise<LlmCompletionOutput>;

test("tokens stream in order and add up to the text", async () => {
  const chunks: string[] = [];
  const out = await complete({ prompt: "the cat", max_tokens: 30, temperature: 0 }, (t) => chunks.push(t));
  assert.ok(chunks.length > 1);
  assert.equal(chunks.join(""), out.text);
  assert.ok(out.prompt_tokens > 0);
});

test("max_tokens ends the text with finish_reason length", async () => {
  const out = await complete({ prompt: "the cat", max_tokens: 7, temperature: 0 });
  assert.equal(out.finish_reason, "length");
  assert.equal(out.tokens_used, 7);
});

test("a stop string ends the text before it, with finish_reason stop", async () => {
  const full = await complete({ prompt: "a dog", max_tokens: 40, temperature: 0 });
  const at = full.text.slice(3).search(/[a-z]{2}/) + 3; // a letter pair past the start
  const stop = full.text.slice(at, at + 2);
  const cut = full.text.indexOf(stop);
  assert.ok(cut > 0, `no usable stop string in ${JSON.stringify(full.text)}`);
  const out = await complete({ prompt: "a dog", max_tokens: 40, temperature: 0, stop: [stop] });
  assert.equal(out.finish_reason, "stop");
  assert.equal(out.text, full.text.slice(0, cut));
});

test("the same seed gives the same sampled text; other seeds other text", async () => {
  const run = (seed: number) => complete({ prompt: "it is", max_tokens: 24, temperature: 1, seed });
  const [a, b] = [await run(42), await run(42)];
  assert.equal(a.text, b.text);
  const others = new Set([(await run(1)).text, (await run(2)).text, (await run(3)).text, a.text]);
  assert.ok(others.size > 1, "seeds change the sample");
});

test("an abort stops generation at once: cancelled, partial text kept, the sequence comes back", async () => {
  const ac = new AbortController();
  const chunks: string[] = [];
  const err = await complete(
    { prompt: "the", max_tokens: 200, temperature: 0 },
    (t) => {
      if (chunks.push(t) === 5) ac.abort("cancel");
    },
    ac.signal,
  ).then(
    () => assert.fail("should be cancelled"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof LlmError);
  assert.equal(err.category, "cancelled");
  assert.ok(err.partial && err.partial.tokens_used >= 5 && err.partial.tokens_used < 200);
  assert.ok(chunks.join("").startsWith(err.partial.text));
  // Both sequences are free again: two runs at once complete.
  const outs = await Promise.all([1, 2].map(() => complete({ prompt: "the", max_tokens: 5, temperature: 0 })));
  assert.deepEqual(
    outs.map((o) => o.finish_reason),
    ["length", "length"],
  );
});

test("runs on two sequences at once give what they give one at a time", async () => {
  const p = (prompt: string) => ({ prompt, max_tokens: 20, temperature: 0 });
  const serial = [(await complete(p("the cat"))).text, (await complete(p("a dog is"))).text];
  const both = await Promise.all([complete(p("the cat")), complete(p("a dog is"))]);
  assert.deepEqual(
    both.map((o) => o.text),
    serial,
  );
});

test("json_schema constrains the output to JSON matching the schema", async () => {
  const schema = {
    type: "object",
    properties: { name: { type: "string", maxLength: 12 }, color: { enum: ["red", "green"] }, ok: { type: "boolean" } },
    required: ["name", "color", "ok"],
  };
  const out = await complete({ prompt: "{", max_tokens: 200, temperature: 0.5, seed: 1, json_schema: schema });
  assert.equal(out.finish_reason, "stop", out.text);
  const value = JSON.parse(out.text) as { name: unknown; color: unknown; ok: unknown };
  assert.equal(typeof value.name, "string");
  assert.ok(value.color === "red" || value.color === "green", out.text);
  assert.equal(typeof value.ok, "boolean");
});

test("embeddings have the model's dimension and are deterministic", async () => {
  const run = (prompt: string) =>
    engine.run("llm.tiny-a", { prompt, embedding: true }, { signal }) as Promise<LlmEmbeddingOutput>;
  const [a, b, c] = [await run("the cat"), await run("the cat"), await run("a dog")];
  assert.equal(a.dimensions, 64);
  assert.equal(a.embedding.length, 64);
  assert.deepEqual(a.embedding, b.embedding);
  assert.notDeepEqual(a.embedding, c.embedding);
});

test("chat messages go through the model's chat template", async () => {
  const messages = [
    { role: "system", content: "be brief" },
    { role: "user", content: "hello" },
  ];
  const out = (await engine.run(
    "llm.tiny-chat",
    { messages, max_tokens: 10, temperature: 0 },
    { signal },
  )) as LlmCompletionOutput;
  assert.equal(out.tokens_used, 10);
  // ChatML wraps each message in <|im_start|>role\n…<|im_end|>: far more tokens than the words.
  assert.ok(out.prompt_tokens > 30, `prompt_tokens ${out.prompt_tokens}`);
});

test("a bad payload is a bad_request, not a model or inference error", async () => {
  const tooLong = { prompt: "the cat ".repeat(100) }; // the context holds 256 tokens
  for (const payload of [{}, { prompt: "x", messages: [{ role: "user", content: "y" }] }, { prompt: 3 }, tooLong]) {
    await assert.rejects(complete(payload), (e: unknown) => e instanceof LlmError && e.category === "bad_request");
  }
});

test("health: a loaded model answers a ping", async () => {
  assert.equal(await engine.health(), null);
});

test("a failure mid-generation is an inference error with the partial text; the context is recreated", async () => {
  await complete({ prompt: "the", max_tokens: 1 }); // loaded
  const m = engine.models.loaded.find((x) => x.entry.name === "llm.tiny-a")!;
  const before = m.context;
  let n = 0;
  const err = await complete({ prompt: "the", max_tokens: 200, temperature: 0 }, () => {
    if (++n === 5) void before.dispose(); // the context goes away under the run, as after a failed decode
  }).then(
    () => assert.fail("should fail"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof LlmError, String(err));
  assert.equal(err.category, "inference", err.message);
  assert.ok(err.partial && err.partial.tokens_used >= 5 && err.partial.text.length > 0);
  assert.notEqual(m.context, before);
  const out = await complete({ prompt: "the", max_tokens: 5, temperature: 0 });
  assert.equal(out.tokens_used, 5);
});
