import { capabilityName, type ErrorCategory } from "@gantry/protocol";
import { type ExecutorContext, ExecutorError } from "../../runner/executor.ts";
import { LlmEngine } from "./llm-engine.ts";
import { LlmError, type LlmErrorCategory } from "./llm-error.ts";
import type { LlmOptions } from "./llm-options.ts";
import { tokenProgress } from "./token-progress.ts";

/**
 * The llm executor on the plugin contract as announced, reconciled with the real one at merge; the
 * work is in LlmEngine. GPU lost → `transient` + code `gpu_lost` (the job is not at fault) and
 * onFatal (the agent drains and exits 1). A bad payload → `fatal`: no retry can help.
 */
const CATEGORY: Record<Exclude<LlmErrorCategory, "cancelled">, ErrorCategory> = {
  model: "model",
  inference: "inference",
  fatal: "transient",
  bad_request: "fatal",
};
type Options = Partial<LlmOptions> & { modelsDir: string; onFatal?: (e: Error) => void };
type RunContext = Pick<ExecutorContext, "signal" | "progress" | "log">;

export function createLlmExecutor(options: Options) {
  let engine: LlmEngine | undefined;
  const capabilities = () => engine?.capabilities().map((c) => c.capability) ?? [];
  return {
    name: "llm",
    capabilities,
    async detect() {
      const e = engine ?? (await LlmEngine.create(options));
      if (typeof e === "string") return { available: false as const, reason: e };
      engine = e;
      return { available: true as const, capabilities: capabilities() };
    },
    onCapabilitiesChanged: (listener: () => void) => engine?.onChange(listener) ?? (() => {}),
    rescan: async () => engine?.rescan(),
    async run(job: { capability: string; payload: unknown }, ctx: RunContext) {
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
        if (err.category === "fatal") options.onFatal?.(err);
        throw new ExecutorError(CATEGORY[err.category], err.message, err.category === "fatal" ? "gpu_lost" : undefined);
      } finally {
        stream.flush();
      }
    },
    health: async () => (await engine?.health()) ?? null,
    unload: async () => engine?.unload(),
  };
}
