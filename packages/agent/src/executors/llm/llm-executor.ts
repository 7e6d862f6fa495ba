import { capabilityName, type ErrorCategory } from "@gantry/protocol";
import type { Detection, Executor, ExecutorContext, ExecutorJob, ExecutorSettings } from "../../runner/executor.ts";
import { ExecutorError } from "../../runner/executor.ts";
import { LlmEngine } from "./llm-engine.ts";
import { LlmError, type LlmErrorCategory } from "./llm-error.ts";
import type { LlmOptions } from "./llm-options.ts";
import { hasModelFiles, llmOptionsFrom } from "./llm-settings.ts";
import { tokenProgress } from "./token-progress.ts";

/**
 * The llm executor on the plugin contract; the work is in LlmEngine. GPU lost → `transient`, code `gpu_lost`
 * (the agent drains, exits 1). In a thread: the model stays loaded (a process per job would reload it).
 */
const CATEGORY: Record<Exclude<LlmErrorCategory, "cancelled">, ErrorCategory> = {
  model: "model",
  inference: "inference",
  fatal: "transient",
  bad_request: "fatal",
};

export function createLlmExecutor(fixed: Partial<LlmOptions> = {}) {
  let engine: LlmEngine | undefined;
  /** watch() listeners, attached once the engine exists (detect may create it later). */
  const watchers: Array<() => void> = [];
  return {
    name: "llm",
    capabilities: [], // known by looking: one per model file
    isolation: "thread",
    async detect(settings: ExecutorSettings): Promise<Detection> {
      const o = llmOptionsFrom(settings, fixed);
      // No model file: say so without loading llama.cpp (every agent start detects every executor).
      if (!engine && !(await hasModelFiles(o.modelsDir)))
        return { available: false, reason: `no *.gguf in ${o.modelsDir}` };
      const e = engine ?? (await LlmEngine.create(o));
      if (typeof e === "string") return { available: false, reason: e };
      if (!engine) for (const w of watchers) e.onChange(w);
      engine = e;
      const capabilities = e.capabilities().map((c) => c.capability);
      return capabilities.length ? { available: true, capabilities } : { available: false, reason: "no usable model" };
    },
    async run(job: ExecutorJob, ctx: ExecutorContext) {
      if (!engine) throw new ExecutorError("model", "llm is not available on this agent");
      const stream = tokenProgress(ctx, engine.maxTokens(job.payload));
      try {
        return await engine.run(capabilityName(job.capability), job.payload, {
          signal: ctx.signal,
          onToken: stream.onToken,
        });
      } catch (err) {
        if (!(err instanceof LlmError)) throw err;
        if (err.partial) ctx.log("stderr", `partial output, ${err.partial.tokens_used} tokens: ${err.partial.text}`);
        if (err.category === "cancelled") throw err; // the runner records it as cancelled
        throw new ExecutorError(CATEGORY[err.category], err.message, err.category === "fatal" ? "gpu_lost" : undefined);
      } finally {
        stream.flush();
      }
    },
    health: async () => (await engine?.health()) ?? null,
    loaded: () => engine?.models.loaded.map((m) => m.entry.name) ?? [],
    // A quarantine starting or ending, or model files coming and going: the agent detects again.
    watch: (onChange) => {
      watchers.push(onChange);
      engine?.onChange(onChange);
    },
    unload: async () => engine?.unload(),
  } satisfies Executor;
}

export default createLlmExecutor();
