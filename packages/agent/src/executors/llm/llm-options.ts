import { join } from "node:path";

/** Options of the llm executor core, resolved once (resolveLlmOptions) and passed down. */
export interface LlmOptions {
  /** Directory of `*.gguf` files; each is one capability `llm.<basename, lowercased>`. */
  modelsDir: string;
  /** `auto` offloads to CUDA, Metal or Vulkan when present; `off` forces the CPU. @defaultValue "auto" */
  gpu: "auto" | "off";
  /** CPU threads per context; 0 picks physical cores − 1 (min 1). @defaultValue 0 */
  threads: number;
  /** Models kept in memory at once; a request for another one unloads the least recently used. @defaultValue 1 */
  maxLoadedModels: number;
  /** Sequences per context: requests a loaded model runs at once, batched together. @defaultValue 1 */
  sequences: number;
  /** Context tokens per sequence; 0 means the model's training context, at most 4096. @defaultValue 0 */
  contextSize: number;
  /** How long a model that failed to load is not advertised. @defaultValue 600000 (10 min) */
  quarantineMs: number;
  /** Where quarantines persist across rescans and restarts; "" keeps them in memory only. @defaultValue `<modelsDir>/.gantry-quarantine.json` */
  quarantineFile: string;
  /** Watch the models directory and rescan on change (debounced). @defaultValue true */
  watch: boolean;
  /** How long after the last change in the directory a watch-triggered rescan runs. @defaultValue 500 */
  watchDebounceMs: number;
  /** Default `max_tokens` when the payload gives none. @defaultValue 512 */
  defaultMaxTokens: number;
  /** Where diagnostics go (model loads, swaps, quarantines). @defaultValue no-op */
  log: (line: string) => void;
}

export const llmDefaults = {
  gpu: "auto",
  threads: 0,
  maxLoadedModels: 1,
  sequences: 1,
  contextSize: 0,
  quarantineMs: 600_000,
  watch: true,
  watchDebounceMs: 500,
  defaultMaxTokens: 512,
  log: () => {},
} satisfies Omit<LlmOptions, "modelsDir" | "quarantineFile">;

export function resolveLlmOptions(options: Partial<LlmOptions> & { modelsDir: string }): LlmOptions {
  const o = { ...llmDefaults, quarantineFile: join(options.modelsDir, ".gantry-quarantine.json"), ...options };
  if (o.maxLoadedModels < 1 || o.sequences < 1) throw new Error("maxLoadedModels and sequences must be ≥ 1");
  return o;
}
