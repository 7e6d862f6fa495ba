import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { detectGpus } from "./detect-gpus.ts";
import { parseLspci, parseNvidiaSmi, parseSystemProfilerDisplays } from "./gpu-parsers.ts";
import { gpusFromLlama, type LlamaGpuReport, mergeLlamaGpus } from "./llama-gpus.ts";
import { probeLlamaGpus } from "./probe-llama.ts";

const fixture = (name: string) => fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");
const report = (name: string) => JSON.parse(fixture(name)) as LlamaGpuReport;

test("node-llama-cpp CUDA report: one NVIDIA GPU per device; summed VRAM is not split between two devices", () => {
  const gpus = gpusFromLlama(report("node-llama-cpp-cuda-2x4090.json"));
  assert.deepEqual(
    gpus.map((g) => [g.vendor, g.model, g.vramMb]),
    [
      ["nvidia", "NVIDIA GeForce RTX 4090", null],
      ["nvidia", "NVIDIA GeForce RTX 4090", null],
    ],
  );
});

test("node-llama-cpp Metal report: Apple GPU, unified memory is no VRAM", () => {
  const [gpu] = gpusFromLlama(report("node-llama-cpp-metal-m2pro.json"));
  assert.deepEqual(gpu, {
    vendor: "apple",
    model: "Apple M2 Pro",
    vramMb: null,
    driver: null,
    computeCapability: null,
    utilizationPercent: null,
    memoryUsedMb: 0,
  });
});

test("node-llama-cpp Vulkan report: one AMD device with its VRAM in MB", () => {
  const [gpu] = gpusFromLlama(report("node-llama-cpp-vulkan-rx6800.json"));
  assert.equal(gpu?.vendor, "amd");
  assert.equal(gpu?.vramMb, 16368);
  assert.equal(gpu?.memoryUsedMb, 512);
});

test("node-llama-cpp CPU-only report: no GPUs", () => {
  assert.deepEqual(gpusFromLlama(report("node-llama-cpp-cpu.json")), []);
});

test("merge: llama.cpp confirms nvidia-smi's GPUs and changes nothing it already knew", () => {
  const smi = parseNvidiaSmi(fixture("nvidia-smi-2x4090.csv"));
  const merged = mergeLlamaGpus(smi, gpusFromLlama(report("node-llama-cpp-cuda-2x4090.json")));
  assert.deepEqual(merged, smi);
});

test("merge: Vulkan's VRAM fills the AMD card lspci found without it; the Intel iGPU stays", () => {
  const lspci = parseLspci(fixture("lspci-intel-amd.txt"));
  const merged = mergeLlamaGpus(lspci, gpusFromLlama(report("node-llama-cpp-vulkan-rx6800.json")));
  assert.deepEqual(
    merged.map((g) => [g.vendor, g.vramMb, g.memoryUsedMb]),
    [
      ["intel", null, null],
      ["amd", 16368, 512],
    ],
  );
  assert.match(merged[1]!.model, /Navi 21/, "the tool's model name is kept");
});

test("merge: Metal confirms system_profiler's Apple GPU and adds memory in use; a device no tool saw is added", () => {
  const sp = parseSystemProfilerDisplays(fixture("system-profiler-m2pro.json"));
  const merged = mergeLlamaGpus(sp, gpusFromLlama(report("node-llama-cpp-metal-m2pro.json")));
  assert.deepEqual(merged, [{ ...sp[0], memoryUsedMb: 0 }]);
  const onlyLlama = mergeLlamaGpus([], gpusFromLlama(report("node-llama-cpp-vulkan-rx6800.json")));
  assert.equal(onlyLlama.length, 1);
  assert.equal(onlyLlama[0]?.model, "AMD Radeon RX 6800 XT (RADV NAVI21)");
});

test("probe: where node-llama-cpp cannot be resolved it answers null (the silent fallback)", async () => {
  // The agent now ships node-llama-cpp, so "not installed" is what the resolver reports, not the tree.
  assert.equal(await probeLlamaGpus(() => null), null);
});

test("probe: a module with node-llama-cpp's getLlama is asked in a child process", async () => {
  const fake = new URL("./fixtures/fake-node-llama-cpp.ts", import.meta.url).href;
  assert.deepEqual(await probeLlamaGpus(() => fake), report("node-llama-cpp-vulkan-rx6800.json"));
  const broken = new URL("./fixtures/nvidia-smi-na.csv", import.meta.url).href;
  assert.equal(await probeLlamaGpus(() => broken), null, "a module that fails to load is ignored");
});

test("detectGpus adds llama.cpp's view to the tools' and ignores a failing probe", async () => {
  const withLlama = await detectGpus(process.platform, async () => report("node-llama-cpp-vulkan-rx6800.json"));
  assert.ok(withLlama.some((g) => g.vendor === "amd" && g.vramMb === 16368));
  const without = await detectGpus(process.platform, async () => {
    throw new Error("binding exploded");
  });
  assert.ok(Array.isArray(without));
});
