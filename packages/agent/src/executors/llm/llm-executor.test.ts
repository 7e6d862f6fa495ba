import assert from "node:assert/strict";
import { readFile, truncate } from "node:fs/promises";
import { after, test } from "node:test";
import type { LlmCompletionOutput } from "@gantry/protocol";
import { ExecutorError } from "../../runner/executor.ts";
import { createLlmExecutor } from "./llm-executor.ts";
import { modelsDir } from "./testing/models-dir.ts";
import { testContext, testJob, testSettings } from "./testing/run-context.ts";

const fx = await modelsDir({ "tiny-a": { seed: 1 }, broken: { seed: 2 } });
await truncate(fx.path("broken"), (await readFile(fx.path("broken"))).length - 4096);
const ex = createLlmExecutor({ modelsDir: fx.dir, gpu: "off", threads: 1, watch: false });
const context = (signal?: AbortSignal) => {
  const c = testContext(fx.dir, signal);
  return Object.assign(c.ctx, { progress$: c.progress, logs: c.logs, tokens$: c.tokens });
};
after(async () => {
  await ex.unload();
  await fx.remove();
});

test("detect lists one capability per model, with attributes", async () => {
  const d = await ex.detect(testSettings(fx.dir));
  assert.ok(d.available);
  assert.deepEqual(d.capabilities, [
    "llm.broken[gpu:cpu;ctx:256;quant:f32;size_mb:1]",
    "llm.tiny-a[gpu:cpu;ctx:256;quant:f32;size_mb:1]",
  ]);
});

test("a job streams its text as tokens once per turn, and as latest-wins progress, and ends with the output", async () => {
  const ctx = context();
  const payload = { prompt: "the", max_tokens: 40, temperature: 0 };
  const out = (await ex.run(testJob("llm.tiny-a[gpu]", payload), ctx)) as LlmCompletionOutput;
  const messages = ctx.progress$.map((p) => p.message ?? "");
  assert.ok(messages.length >= 1 && messages.length <= 40);
  assert.equal(messages.at(-1), out.text, "the last progress holds the whole text");
  for (let i = 1; i < messages.length; i++)
    assert.ok(messages[i]!.startsWith(messages[i - 1]!), "each extends the last");
  assert.ok(ctx.progress$.every((p) => p.stage === "generating" && p.percent <= 99));
  assert.equal(ctx.tokens$.join(""), out.text, "the token messages add up to the text, in order");
  assert.ok(ctx.tokens$.length >= messages.length, "progress at most once per token message");
});

test("a corrupt model fails the job with category model and drops it from the capabilities", async () => {
  const err = await ex.run(testJob("llm.broken", { prompt: "x" }), context()).catch((e: unknown) => e);
  assert.ok(err instanceof ExecutorError);
  assert.equal(err.category, "model");
  assert.deepEqual(((await ex.detect(testSettings(fx.dir))) as { capabilities: string[] }).capabilities, [
    "llm.tiny-a[gpu:cpu;ctx:256;quant:f32;size_mb:1]",
  ]);
});

test("a cancelled job logs its partial text", async () => {
  const ac = new AbortController();
  const ctx = context(ac.signal);
  // Cancelled once text has come (a timer could fire before the first token on a busy machine).
  ctx.tokens = (t) => {
    ctx.tokens$.push(t);
    ac.abort("cancel");
  };
  const run = ex.run(testJob("llm.tiny-a", { prompt: "the", max_tokens: 5000, temperature: 0 }), ctx);
  await assert.rejects(run, (e: unknown) => (e as Error).name === "LlmError");
  assert.match(ctx.logs.join("\n"), /^partial output, \d+ tokens: /);
});

test("a bad payload fails without retry (fatal)", async () => {
  const err = await ex.run(testJob("llm.tiny-a", { prompt: 1 }), context()).catch((e: unknown) => e);
  assert.ok(err instanceof ExecutorError);
  assert.equal(err.category, "fatal");
});
