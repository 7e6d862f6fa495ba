import assert from "node:assert/strict";
import { readFile, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { LlmCompletionOutput } from "@gantry/protocol";
import { LlmEngine } from "./llm-engine.ts";
import { isDeviceLost, LlmError } from "./llm-error.ts";
import { capabilityForFile } from "./model-catalog.ts";
import { writeTinyLlamaGguf } from "./testing/gguf-writer.ts";
import { modelsDir } from "./testing/models-dir.ts";

const fx = await modelsDir({ "Tiny-A": { seed: 1 }, "tiny-b": { seed: 2 }, broken: { seed: 5 } });
let engine: LlmEngine;
const signal = new AbortController().signal;
const changes: number[] = [];

before(async () => {
  // Corrupt: the header is intact (so it is offered) but the tensor data is cut short.
  await truncate(fx.path("broken"), (await readFile(fx.path("broken"))).length - 4096);
  await writeFile(join(fx.dir, "garbage.gguf"), "not a gguf at all");
  const e = await LlmEngine.create({
    modelsDir: fx.dir,
    gpu: "off",
    threads: 1,
    maxLoadedModels: 1,
    watchDebounceMs: 50,
  });
  assert.ok(e instanceof LlmEngine, String(e));
  engine = e;
  engine.onChange(() => changes.push(Date.now()));
});
after(async () => {
  await engine.unload();
  await fx.remove();
});

const names = () => engine.capabilities().map((c) => c.name);
const greedy = (name: string) =>
  engine.run(name, { prompt: "the cat", max_tokens: 12, temperature: 0 }, { signal }) as Promise<LlmCompletionOutput>;

test("each readable GGUF is one capability with attributes from the file and the machine", () => {
  assert.deepEqual(names(), ["llm.broken", "llm.tiny-a", "llm.tiny-b"]);
  const a = engine.capabilities().find((c) => c.name === "llm.tiny-a")!;
  assert.deepEqual(a.attributes, ["gpu:cpu", "ctx:256", "quant:f32", "size_mb:1"]);
  assert.match(engine.catalog.skipped.map((s) => s.reason).join(), /unreadable GGUF header/);
});

test("file names become capability names", () => {
  assert.equal(capabilityForFile("Llama 3.1 8B (Q4_K_M).gguf"), "llm.llama-3.1-8b-q4_k_m");
  assert.equal(capabilityForFile("x..y.gguf"), "llm.x.y");
  assert.equal(capabilityForFile("((.gguf"), null);
});

test("with maxLoadedModels 1 a run for another model swaps it in; texts stay the same", async () => {
  const a1 = await greedy("llm.tiny-a");
  assert.deepEqual(
    engine.models.loaded.map((m) => m.entry.name),
    ["llm.tiny-a"],
  );
  const b = await greedy("llm.tiny-b");
  assert.deepEqual(
    engine.models.loaded.map((m) => m.entry.name),
    ["llm.tiny-b"],
  );
  assert.notEqual(a1.text, b.text);
  assert.equal((await greedy("llm.tiny-a")).text, a1.text);
});

test("concurrent runs for two models with room for one: both complete, one after the other", async () => {
  const [a, b] = await Promise.all([greedy("llm.tiny-a"), greedy("llm.tiny-b")]);
  assert.equal(a.tokens_used + b.tokens_used, 24);
  assert.equal(engine.models.loaded.length, 1);
});

test("a swap is not starved by a steady stream of runs on the loaded model", async () => {
  await greedy("llm.tiny-a");
  let bDone = false;
  let aRuns = 0;
  const stream = async () => {
    while (!bDone && aRuns < 500) {
      aRuns++;
      await greedy("llm.tiny-a");
    }
  };
  const streams = [stream(), stream()]; // always one A run in flight
  await new Promise((r) => setTimeout(r, 20));
  const b = await greedy("llm.tiny-b");
  bDone = true;
  await Promise.all(streams);
  assert.equal(b.tokens_used, 12);
  assert.ok(aRuns < 500, "B ran while A was still being asked for");
});

test("a corrupt GGUF is a model error; the model is quarantined and no longer offered", async () => {
  const err = await greedy("llm.broken").then(
    () => assert.fail("should not load"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof LlmError);
  assert.equal(err.category, "model");
  assert.ok(err.quarantinedUntil! > Date.now());
  assert.equal(engine.quarantinedUntil("llm.broken"), err.quarantinedUntil);
  assert.ok(!names().includes("llm.broken"));
  await assert.rejects(greedy("llm.broken"), (e: unknown) => e instanceof LlmError && e.category === "model");
  assert.equal((await greedy("llm.tiny-a")).tokens_used, 12, "the agent goes on with other models");
});

test("rescan picks up a new file and drops a removed one (unloading it)", async () => {
  await writeTinyLlamaGguf(fx.path("tiny-c"), { seed: 9 });
  await engine.rescan();
  assert.ok(names().includes("llm.tiny-c"));
  await greedy("llm.tiny-c");
  await unlink(fx.path("tiny-c"));
  await engine.rescan();
  assert.ok(!names().includes("llm.tiny-c"));
  assert.ok(!engine.models.loaded.some((m) => m.entry.name === "llm.tiny-c"));
  await assert.rejects(greedy("llm.tiny-c"), (e: unknown) => e instanceof LlmError && e.category === "model");
});

test("the directory watch rescans by itself when a file appears", async () => {
  const seen = changes.length;
  await writeTinyLlamaGguf(fx.path("tiny-d"), { seed: 11 });
  for (let i = 0; i < 200 && !names().includes("llm.tiny-d"); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(names().includes("llm.tiny-d"));
  assert.ok(changes.length > seen, "listeners hear of it");
});

test("unload frees every model", async () => {
  await greedy("llm.tiny-a");
  await engine.unload();
  assert.equal(engine.models.loaded.length, 0);
});

test("GPU loss is told apart from other errors", () => {
  assert.ok(isDeviceLost(new Error("ggml_vulkan: vk::Device::waitForFences: ErrorDeviceLost")));
  assert.ok(isDeviceLost(new Error("CUDA error: unspecified launch failure")));
  assert.ok(!isDeviceLost(new Error("CUDA error: out of memory")));
  assert.ok(!isDeviceLost(new Error("failed to load model")));
});

test("a quarantine outlives the engine (a rescan in a fresh thread, a restart) until the file is replaced", async () => {
  const again = await LlmEngine.create({ modelsDir: fx.dir, gpu: "off", threads: 1, watch: false });
  assert.ok(again instanceof LlmEngine);
  assert.ok(!again.capabilities().some((c) => c.name === "llm.broken"));
  await writeTinyLlamaGguf(fx.path("broken"), { seed: 5 }); // replaced by a good copy
  await again.rescan();
  assert.ok(again.capabilities().some((c) => c.name === "llm.broken"));
  await again.unload();
});
