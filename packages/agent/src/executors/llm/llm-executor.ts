import { capabilityName, type ErrorCategory } from "@gantry/protocol";
import { type ExecutorContext, ExecutorError } from "../../runner/executor.ts";
import { LlmEngine } from "./llm-engine.ts";
import { LlmError, type LlmErrorCategory } from "./llm-error.ts";
import type { LlmOptions } from "./llm-options.ts";
import { batchPerTurn } from "./token-batcher.ts";

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
      // Token text rides on progress messages (≤2000 chars each), one per event-loop turn.
      const tokens = batchPerTurn((text) => {
        for (let i = 0; i < text.length; i += 2000) {
          ctx.progress({ percent: 0, stage: "tokens", message: text.slice(i, i + 2000) });
        }
      });
      try {
        const hooks = { signal: ctx.signal, onToken: tokens.push };
        return await engine.run(capabilityName(job.capability), job.payload, hooks);
      } catch (err) {
        if (!(err instanceof LlmError)) throw err;
        if (err.partial) ctx.log("stderr", `partial output, ${err.partial.tokens_used} tokens: ${err.partial.text}`);
        if (err.category === "cancelled") throw err; // the runner records it as cancelled
        if (err.category === "fatal") options.onFatal?.(err);
        throw new ExecutorError(CATEGORY[err.category], err.message, err.category === "fatal" ? "gpu_lost" : undefined);
      } finally {
        tokens.flush();
      }
    },
    health: async () => (await engine?.health()) ?? null,
    unload: async () => engine?.unload(),
  };
}
