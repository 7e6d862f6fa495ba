import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import {
  describeGpu,
  parseLspci,
  parseNvidiaSmi,
  parseRocmSmi,
  parseSystemProfilerDisplays,
  parseWin32VideoControllers,
} from "./gpu-parsers.ts";

const fixture = (name: string) => fs.readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

test("NVIDIA: nvidia-smi CSV query → model, VRAM, driver, compute capability, utilisation", () => {
  const gpus = parseNvidiaSmi(fixture("nvidia-smi-2x4090.csv"));
  assert.equal(gpus.length, 2);
  assert.deepEqual(gpus[0], {
    vendor: "nvidia",
    model: "NVIDIA GeForce RTX 4090",
    vramMb: 24564,
    driver: "550.54.14",
    computeCapability: "8.9",
    utilizationPercent: 37,
    memoryUsedMb: 1203,
  });
  assert.equal(describeGpu(gpus[0]), "NVIDIA GeForce RTX 4090 (24564 MB VRAM)");
});

test("NVIDIA: [N/A] fields become null, never guessed", () => {
  const [t4] = parseNvidiaSmi(fixture("nvidia-smi-na.csv"));
  assert.equal(t4?.model, "Tesla T4");
  assert.equal(t4?.memoryUsedMb, null);
  assert.equal(t4?.utilizationPercent, null);
  assert.equal(t4?.computeCapability, "7.5");
});

test("Apple Silicon: system_profiler JSON → apple GPU with unified memory", () => {
  const [gpu] = parseSystemProfilerDisplays(fixture("system-profiler-m2pro.json"));
  assert.equal(gpu?.vendor, "apple");
  assert.equal(gpu?.model, "Apple M2 Pro");
  assert.equal(gpu?.vramMb, null);
  assert.equal(gpu?.computeCapability, "metal3");
  assert.equal(describeGpu(gpu), "Apple M2 Pro (unified memory)");
});

test("Intel Mac with AMD: VRAM strings in GB and MB", () => {
  const gpus = parseSystemProfilerDisplays(fixture("system-profiler-intel-mac-amd.json"));
  assert.deepEqual(
    gpus.map((g) => [g.vendor, g.vramMb]),
    [
      ["intel", 1536],
      ["amd", 8192],
    ],
  );
});

test("AMD: rocm-smi JSON → cards in order with VRAM in MB and driver", () => {
  const gpus = parseRocmSmi(fixture("rocm-smi-mi210.json"));
  assert.equal(gpus.length, 2);
  assert.equal(gpus[0]?.model, "AMD Instinct MI210");
  assert.equal(gpus[0]?.vramMb, 65520);
  assert.equal(gpus[0]?.utilizationPercent, 12);
  assert.equal(gpus[0]?.driver, "6.3.6");
  assert.equal(gpus[0]?.computeCapability, "gfx90a");
});

test("basic detection: lspci finds Intel and AMD controllers; a VM's virtual VGA is no GPU", () => {
  assert.deepEqual(
    parseLspci(fixture("lspci-intel-amd.txt")).map((g) => g.vendor),
    ["intel", "amd"],
  );
  assert.deepEqual(parseLspci(fixture("lspci-none.txt")), []);
  assert.equal(describeGpu(null), "none");
});

test("Windows: Win32_VideoController JSON, basic display adapter skipped", () => {
  const gpus = parseWin32VideoControllers(fixture("win32-video-rtx3060.json"));
  assert.equal(gpus.length, 1);
  assert.equal(gpus[0]?.vendor, "nvidia");
  assert.equal(gpus[0]?.vramMb, 4095);
});

test("garbage in: parsers return [] instead of throwing", () => {
  assert.deepEqual(parseSystemProfilerDisplays("not json"), []);
  assert.deepEqual(parseRocmSmi("{"), []);
  assert.deepEqual(parseNvidiaSmi(""), []);
});
