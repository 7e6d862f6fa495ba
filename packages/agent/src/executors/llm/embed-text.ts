import type { LlmEmbeddingOutput } from "@gantry/protocol";
import { isDeviceLost, LlmError } from "./llm-error.ts";
import type { LoadedModel } from "./loaded-model.ts";

/** The prompt's embedding from the model's embedding context (one forward pass; not interruptible). */
export async function embedText(
  m: LoadedModel,
  prompt: string,
  signal: AbortSignal,
  startedAt: number,
): Promise<LlmEmbeddingOutput> {
  if (signal.aborted) throw new LlmError("cancelled", "cancelled before it started");
  const promptTokens = m.model.tokenize(prompt).length;
  if (promptTokens >= m.contextSize) {
    throw new LlmError("bad_request", `the prompt is ${promptTokens} tokens; ${m.entry.name} holds ${m.contextSize}`);
  }
  try {
    const ctx = await m.embeddingContext();
    const e = await ctx.getEmbeddingFor(prompt);
    const embedding = [...e.vector];
    return {
      embedding,
      dimensions: embedding.length,
      prompt_tokens: promptTokens,
      duration_ms: Date.now() - startedAt,
    };
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    throw new LlmError(isDeviceLost(err) ? "fatal" : "inference", `embedding failed: ${message}`, { cause: err });
  }
}
