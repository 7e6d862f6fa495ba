import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCapability, parseCapability } from "./capability.ts";

test("parses names, flags and key:value attributes", () => {
  assert.deepEqual(parseCapability("llm.llama3-8b[gpu;cuda12;ctx:8192]"), {
    name: "llm.llama3-8b",
    attributes: { gpu: true, cuda12: true, ctx: "8192" },
  });
  assert.deepEqual(parseCapability("summarization"), { name: "summarization", attributes: {} });
  assert.equal(formatCapability(parseCapability("a.b[x;k:v]")), "a.b[x;k:v]");
});

test("rejects malformed strings", () => {
  for (const bad of [
    "",
    "a..b",
    ".a",
    "a.",
    "x[gpu",
    "x[]",
    "x[a;a]",
    "x[a]b",
    "x[[a]]",
    "x[a:]",
    "x y",
    "x[k:v w]",
    "a".repeat(201),
  ]) {
    assert.throws(() => parseCapability(bad), Error, bad);
  }
});

test("names are matched case-insensitively: the seed's GENERAL_COMPUTE parses to general_compute", () => {
  assert.equal(parseCapability("GENERAL_COMPUTE").name, "general_compute");
  assert.deepEqual(parseCapability("LLM.Mistral-7B[GPU;Ctx:8K]"), {
    name: "llm.mistral-7b",
    attributes: { gpu: true, ctx: "8K" },
  });
});
