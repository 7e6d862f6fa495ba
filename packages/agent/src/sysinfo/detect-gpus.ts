import type { GpuInfo } from "@gantry/protocol";
import {
  NVIDIA_SMI_ARGS,
  parseLspci,
  parseNvidiaSmi,
  parseRocmSmi,
  parseSystemProfilerDisplays,
  parseWin32VideoControllers,
} from "./gpu-parsers.ts";
import { gpusFromLlama, type LlamaGpuReport, mergeLlamaGpus } from "./llama-gpus.ts";
import { probeLlamaGpus } from "./probe-llama.ts";
import { runTool } from "./run-tool.ts";

/**
 * The GPUs of this machine, best source first; `[]` when there are none or no tool answers. When
 * node-llama-cpp is installed, its own device detection confirms and fills what the tools found.
 */
export async function detectGpus(
  platform: NodeJS.Platform = process.platform,
  probeLlama: () => Promise<LlamaGpuReport | null> = probeLlamaGpus,
): Promise<GpuInfo[]> {
  const [tools, llama] = await Promise.all([detectWithTools(platform), probeLlama().catch(() => null)]);
  return llama ? mergeLlamaGpus(tools, gpusFromLlama(llama)) : tools;
}

/** nvidia-smi, then system_profiler (macOS), PowerShell (Windows), rocm-smi and lspci (Linux). */
async function detectWithTools(platform: NodeJS.Platform): Promise<GpuInfo[]> {
  const nvidia = await runTool("nvidia-smi", NVIDIA_SMI_ARGS);
  const gpus: GpuInfo[] = nvidia ? parseNvidiaSmi(nvidia) : [];
  if (platform === "darwin") {
    const sp = await runTool("system_profiler", ["SPDisplaysDataType", "-json"], 15_000);
    if (sp) gpus.push(...parseSystemProfilerDisplays(sp).filter((g) => !gpus.some((n) => n.model === g.model)));
    return gpus;
  }
  if (platform === "win32") {
    if (gpus.length) return gpus;
    const ps = await runTool("powershell.exe", [
      "-NoProfile",
      "-Command",
      "Get-CimInstance Win32_VideoController | Select-Object Name,AdapterRAM,DriverVersion | ConvertTo-Json",
    ]);
    return ps ? parseWin32VideoControllers(ps) : [];
  }
  const rocm = await runTool("rocm-smi", [
    "--showproductname",
    "--showmeminfo",
    "vram",
    "--showuse",
    "--showdriverversion",
    "--json",
  ]);
  if (rocm) gpus.push(...parseRocmSmi(rocm));
  if (gpus.length) return gpus;
  const lspci = await runTool("lspci", []);
  return lspci ? parseLspci(lspci) : [];
}

/** Utilisation and memory used per NVIDIA GPU, for heartbeats (the cheap query; others report null). */
export async function sampleNvidiaUsage(): Promise<GpuInfo[] | null> {
  const out = await runTool("nvidia-smi", NVIDIA_SMI_ARGS, 3000);
  return out ? parseNvidiaSmi(out) : null;
}
