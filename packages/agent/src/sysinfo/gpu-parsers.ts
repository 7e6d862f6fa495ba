import type { GpuInfo } from "@gantry/protocol";

/** The nvidia-smi query the agent runs; the parser expects these columns in this order. */
export const NVIDIA_SMI_ARGS = [
  "--query-gpu=index,name,memory.total,memory.used,utilization.gpu,driver_version,compute_cap",
  "--format=csv,noheader,nounits",
];

function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const n = Number.parseFloat(s.trim());
  return Number.isFinite(n) ? n : null;
}

function text(s: string | undefined): string | null {
  const t = s?.trim();
  return t && !/^\[?(N\/A|Not Supported)\]?$/i.test(t) ? t : null;
}

/** `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` → GPUs (memory in MiB). */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of csv.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const [, name, total, used, util, driver, cc] = line.split(",").map((c) => c.trim());
    if (!name) continue;
    gpus.push({
      vendor: "nvidia",
      model: name,
      vramMb: num(total),
      driver: text(driver),
      computeCapability: text(cc),
      utilizationPercent: num(util),
      memoryUsedMb: num(used),
    });
  }
  return gpus;
}

/** "8 GB", "1536 MB" → MB. */
function sizeMb(s: unknown): number | null {
  const m = /^([\d.]+)\s*(GB|MB)$/i.exec(String(s ?? "").trim());
  if (!m) return null;
  const n = Number.parseFloat(m[1]!);
  return m[2]!.toUpperCase() === "GB" ? Math.round(n * 1024) : Math.round(n);
}

/** `system_profiler SPDisplaysDataType -json` → GPUs. Apple Silicon shares system memory: vramMb null. */
export function parseSystemProfilerDisplays(json: string): GpuInfo[] {
  let data: { SPDisplaysDataType?: Array<Record<string, unknown>> };
  try {
    data = JSON.parse(json);
  } catch {
    return [];
  }
  return (data.SPDisplaysDataType ?? []).map((d) => {
    const model = String(d.sppci_model ?? d._name ?? "unknown GPU");
    const vendorText = `${String(d.spdisplays_vendor ?? "")} ${model}`.toLowerCase();
    const vendor: GpuInfo["vendor"] = /apple/.test(vendorText)
      ? "apple"
      : /nvidia/.test(vendorText)
        ? "nvidia"
        : /amd|\bati\b|radeon/.test(vendorText)
          ? "amd"
          : /intel/.test(vendorText)
            ? "intel"
            : "other";
    const metal = d.spdisplays_mtlgpufamilysupport ?? d.spdisplays_metal ?? d.spdisplays_metalfamily;
    return {
      vendor,
      model,
      vramMb: sizeMb(d.spdisplays_vram ?? d.spdisplays_vram_shared ?? d._spdisplays_vram),
      driver: null,
      computeCapability: typeof metal === "string" ? metal.replace(/^spdisplays_/, "") : null,
      utilizationPercent: null,
      memoryUsedMb: null,
    };
  });
}

/** `rocm-smi --showproductname --showmeminfo vram --showuse --showdriverversion --json` → GPUs. */
export function parseRocmSmi(json: string): GpuInfo[] {
  let data: Record<string, Record<string, string>>;
  try {
    data = JSON.parse(json);
  } catch {
    return [];
  }
  const driver = data.system?.["Driver version"] ?? null;
  return Object.entries(data)
    .filter(([k]) => /^card\d+$/.test(k))
    .sort(([a], [b]) => Number(a.slice(4)) - Number(b.slice(4)))
    .map(([, c]) => {
      const total = num(c["VRAM Total Memory (B)"]);
      const used = num(c["VRAM Total Used Memory (B)"]);
      return {
        vendor: "amd" as const,
        model: c["Card Series"] ?? c["Card series"] ?? c["Card model"] ?? c["Card Model"] ?? "AMD GPU",
        vramMb: total === null ? null : Math.round(total / 1048576),
        driver,
        computeCapability: c["GFX Version"] ?? null,
        utilizationPercent: num(c["GPU use (%)"]),
        memoryUsedMb: used === null ? null : Math.round(used / 1048576),
      };
    });
}

/** `lspci` (basic detection for AMD/Intel without vendor tools): display controllers only. */
export function parseLspci(textOut: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of textOut.split(/\r?\n/)) {
    const m = /(VGA compatible controller|3D controller|Display controller):\s*(.+)$/.exec(line);
    if (!m) continue;
    const desc = m[2]!.trim();
    const vendor: GpuInfo["vendor"] = /nvidia/i.test(desc)
      ? "nvidia"
      : /advanced micro devices|\bamd\b|\bati\b/i.test(desc)
        ? "amd"
        : /intel/i.test(desc)
          ? "intel"
          : "other";
    if (vendor === "other") continue; // virtual adapters (QEMU, ASPEED BMC) are not compute GPUs
    gpus.push({
      vendor,
      model: desc.replace(/\s*\(rev [0-9a-f]+\)$/i, ""),
      vramMb: null,
      driver: null,
      computeCapability: null,
      utilizationPercent: null,
      memoryUsedMb: null,
    });
  }
  return gpus;
}

/** PowerShell `Get-CimInstance Win32_VideoController | Select Name,AdapterRAM,DriverVersion | ConvertTo-Json`. */
export function parseWin32VideoControllers(json: string): GpuInfo[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return [];
  }
  const list = (Array.isArray(data) ? data : [data]) as Array<Record<string, unknown>>;
  return list
    .filter((c) => typeof c?.Name === "string" && !/basic display|remote display|virtual/i.test(String(c.Name)))
    .map((c) => {
      const name = String(c.Name);
      const ram = typeof c.AdapterRAM === "number" && c.AdapterRAM > 0 ? Math.round(c.AdapterRAM / 1048576) : null;
      const vendor: GpuInfo["vendor"] = /nvidia/i.test(name)
        ? "nvidia"
        : /amd|radeon/i.test(name)
          ? "amd"
          : /intel/i.test(name)
            ? "intel"
            : "other";
      return {
        vendor,
        model: name,
        vramMb: ram,
        driver: typeof c.DriverVersion === "string" ? c.DriverVersion : null,
        computeCapability: null,
        utilizationPercent: null,
        memoryUsedMb: null,
      };
    });
}

/** One line for the startup output, like the seed: "NVIDIA GeForce RTX 4090 (24576 MB VRAM)". */
export function describeGpu(gpu: GpuInfo | null | undefined): string {
  if (!gpu) return "none";
  if (gpu.vramMb !== null) return `${gpu.model} (${gpu.vramMb} MB VRAM)`;
  return gpu.vendor === "apple" ? `${gpu.model} (unified memory)` : gpu.model;
}
