import { fileURLToPath } from "node:url";
import { agentSourceUrl } from "../runner/bundled.ts";
import type { LlamaGpuReport } from "./llama-gpus.ts";
import { runTool } from "./run-tool.ts";

const PROBE = fileURLToPath(agentSourceUrl("sysinfo/llama-probe-main.ts"));

/** Resolves the optional package without loading it; null when it is not installed. */
function resolveLlama(): string | null {
  try {
    return import.meta.resolve("node-llama-cpp");
  } catch {
    return null;
  }
}

/**
 * llama.cpp's own device detection, when node-llama-cpp is installed: run in a short-lived child
 * process (the binding may open a GPU context, which would stay in the agent's memory for good).
 * Null, silently, when it is missing, has no prebuilt binary for this machine, fails or hangs.
 */
export async function probeLlamaGpus(
  resolve: () => string | null = resolveLlama,
  timeoutMs = 30_000,
): Promise<LlamaGpuReport | null> {
  const url = resolve();
  if (!url) return null;
  const out = await runTool(process.execPath, [PROBE, url], timeoutMs);
  const line = out?.split("\n").find((l) => l.startsWith("GANTRY_LLAMA "));
  if (!line) return null;
  try {
    const r = JSON.parse(line.slice("GANTRY_LLAMA ".length)) as LlamaGpuReport;
    return Array.isArray(r.deviceNames) ? r : null;
  } catch {
    return null;
  }
}
