import type { GpuInfo } from "@gantry/protocol";

/**
 * What node-llama-cpp 3.x reports about the GPUs it can use, as the probe records it:
 * `llama.gpu`, `await llama.getGpuDeviceNames()` and `await llama.getVramState()`.
 */
export interface LlamaGpuReport {
  /** The backend it picked with `gpu: "auto"`: "cuda", "metal", "vulkan"…, or false for CPU only. */
  gpu: string | false;
  deviceNames: string[];
  /** Bytes, summed over all devices; `unifiedSize` is the part shared with system memory. */
  vramState: { total: number; used: number; free: number; unifiedSize?: number } | null;
}

const mb = (bytes: number) => Math.round(bytes / 1048576);

function vendorOf(backend: string, name: string): GpuInfo["vendor"] {
  if (backend === "cuda" || /nvidia|geforce|quadro|tesla|\brtx\b/i.test(name)) return "nvidia";
  if (/\bamd\b|radeon|\bati\b/i.test(name)) return "amd";
  if (/intel/i.test(name)) return "intel";
  if (/apple/i.test(name) || backend === "metal") return "apple";
  return "other";
}

/**
 * The report as our GPUs. VRAM is a sum over devices, so it is only attributed with one device;
 * memory fully shared with the system (Apple) is no VRAM, as in the system_profiler parser.
 */
export function gpusFromLlama(report: LlamaGpuReport): GpuInfo[] {
  if (!report.gpu) return [];
  const backend = report.gpu;
  const names = report.deviceNames.map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) names.push(`unknown ${backend} GPU`);
  const vram = names.length === 1 && report.vramState && report.vramState.total > 0 ? report.vramState : null;
  const unified = vram !== null && (vram.unifiedSize ?? 0) >= vram.total;
  return names.map((model) => ({
    vendor: vendorOf(backend, model),
    model,
    vramMb: vram && !unified ? mb(vram.total) : null,
    driver: null,
    computeCapability: null,
    utilizationPercent: null,
    memoryUsedMb: vram ? mb(vram.used) : null,
  }));
}

/** "AMD Radeon RX 6800 XT (RADV NAVI21)" → "amd radeon rx 6800 xt". */
function norm(model: string): string {
  return model
    .toLowerCase()
    .replace(/\([^)]*\)/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function sameModel(a: GpuInfo, b: GpuInfo): boolean {
  const x = norm(a.model);
  const y = norm(b.model);
  return x === y || x.includes(y) || y.includes(x);
}

/**
 * Confirms and fills the tool-detected GPUs with llama.cpp's view: each llama device is matched to
 * an unmatched detected GPU of the same model, else of the same vendor (lspci and Vulkan name cards
 * differently), and fills only what the tools left null. Devices no tool saw are added.
 */
export function mergeLlamaGpus(detected: GpuInfo[], fromLlama: GpuInfo[]): GpuInfo[] {
  const out = detected.map((g) => ({ ...g }));
  const matched = new Set<GpuInfo>();
  for (const l of fromLlama) {
    const free = out.filter((g) => !matched.has(g));
    const match = free.find((g) => sameModel(g, l)) ?? free.find((g) => g.vendor === l.vendor);
    if (!match) {
      out.push({ ...l });
      matched.add(out[out.length - 1]!);
      continue;
    }
    matched.add(match);
    if (match.vramMb === null && match.vendor !== "apple") match.vramMb = l.vramMb;
    if (match.memoryUsedMb === null) match.memoryUsedMb = l.memoryUsedMb;
  }
  return out;
}
