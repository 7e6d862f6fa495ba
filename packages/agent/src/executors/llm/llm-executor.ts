import { join } from "node:path";
import { capabilityName, type ErrorCategory } from "@gantry/protocol";
import {
  type Detection,
  type Executor,
  type ExecutorContext,
  ExecutorError,
  type ExecutorJob,
  type ExecutorSettings,
} from "../../runner/executor.ts";
import { LlmEngine } from "./llm-engine.ts";
import { LlmError, type LlmErrorCategory } from "./llm-error.ts";
import type { LlmOptions } from "./llm-options.ts";
import { tokenProgress } from "./token-progress.ts";

/**
 * The llm executor on the plugin contract; the work is in LlmEngine. GPU lost → `transient` + code
 * `gpu_lost` (the job is not at fault; the agent drains and exits 1). A bad payload → `fatal`.
 * Thread isolation: the model stays loaded between jobs (a process per job would reload it each time).
 */
const CATEGORY: Record<Exclude<LlmErrorCategory, "cancelled">, ErrorCategory> = {
  model: "model",
  inference: "inference",
  fatal: "transient",
  bad_request: "fatal",
};

/** `fixed` options win over the agent's settings (tests, the bench). */
export function createLlmExecutor(fixed: Partial<LlmOptions> = {}) {
  let engine: LlmEngine | undefined;
  const optionsFrom = (s: ExecutorSettings) => ({
    ...s.llm,
    modelsDir: s.llm.modelsDir || join(s.dataDir, "models"),
    ...fixed,
  });
  return {
    name: "llm",
    capabilities: [], // known by looking: one per model file
    isolation: "thread",
    async detect(settings: ExecutorSettings): Promise<Detection> {
      const e = engine ?? (await LlmEngine.create(optionsFrom(settings)));
      if (typeof e === "string") return { available: false, reason: e };
      engine = e;
      const capabilities = e.capabilities().map((c) => c.capability);
      if (capabilities.length > 0) return { available: true, capabilities };
      return { available: false, reason: `no usable *.gguf model in ${e.options.modelsDir}` };
    },
    async run(job: ExecutorJob, ctx: ExecutorContext) {
      if (!engine) throw new ExecutorError("model", "llm is not available on this agent");
      const max = (job.payload as { max_tokens?: number })?.max_tokens ?? engine.options.defaultMaxTokens;
      const stream = tokenProgress(ctx.progress, max);
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
    unload: async () => engine?.unload(),
  } satisfies Executor;
}

export default createLlmExecutor();
