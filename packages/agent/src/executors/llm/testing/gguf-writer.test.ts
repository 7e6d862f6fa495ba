import assert from "node:assert/strict";
import { after, test } from "node:test";
import { getLlama, LlamaCompletion, readGgufFileInfo } from "node-llama-cpp";
import { tinyLlamaGguf } from "./gguf-writer.ts";
import { modelsDir } from "./models-dir.ts";

const fx = await modelsDir({ a: { seed: 1 }, b: { seed: 2 } });
after(() => fx.remove());

test("two seeds give two different models; one seed always the same bytes", () => {
  assert.notDeepEqual(tinyLlamaGguf({ seed: 1 }), tinyLlamaGguf({ seed: 2 }));
  assert.deepEqual(tinyLlamaGguf({ seed: 7 }), tinyLlamaGguf({ seed: 7 }));
});

test("the header reads back as a v3 llama GGUF with the requested shape", async () => {
  const info = await readGgufFileInfo(fx.path("a"));
  assert.equal(info.version, 3);
  assert.equal(info.metadata.general.architecture, "llama");
  const arch = info.architectureMetadata as { context_length: number; embedding_length: number; block_count: number };
  assert.deepEqual([arch.context_length, arch.embedding_length, arch.block_count], [256, 64, 2]);
  assert.equal(info.metadata.tokenizer.ggml.tokens.length, 294);
  assert.equal(info.tensorInfo?.length, 3 + 2 * 9);
});

test("node-llama-cpp loads it, round-trips text through the tokenizer and generates", async () => {
  const llama = await getLlama({ gpu: false, build: "never" });
  const texts: string[] = [];
  for (const name of ["a", "b"]) {
    const model = await llama.loadModel({ modelPath: fx.path(name) });
    assert.equal(model.detokenize(model.tokenize("the cat is here")), "the cat is here");
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    texts.push(await completion.generateCompletion("the cat", { maxTokens: 16 }));
    await context.dispose();
    await model.dispose();
  }
  assert.ok(texts[0]!.length > 0);
  assert.notEqual(texts[0], texts[1], "different weights, different greedy text");
  await llama.dispose();
});
