import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutorSettings } from "../../runner/executor.ts";
import type { LlmOptions } from "./llm-options.ts";

/** The engine's options from the agent's settings (`--models-dir`, `--gpu`, …); `fixed` wins (tests, bench). */
export function llmOptionsFrom(
  s: ExecutorSettings,
  fixed: Partial<LlmOptions>,
): Partial<LlmOptions> & { modelsDir: string } {
  return { ...s.llm, modelsDir: s.llm?.modelsDir || join(s.dataDir, "models"), ...fixed };
}

/** Whether the directory holds a `*.gguf` file, without loading llama.cpp. */
export async function hasModelFiles(dir: string): Promise<boolean> {
  return (await readdir(dir).catch(() => [])).some((f) => /\.gguf$/i.test(f));
}
