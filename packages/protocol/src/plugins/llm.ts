import { z } from "zod";

/**
 * The `llm.<model>` job payload and output (seed 002's WorkItem and InferenceResult, plus chat
 * messages, JSON-schema-constrained output and embeddings). See docs/llm.md.
 */
export const LlmChatMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string().max(1_000_000),
});
export type LlmChatMessage = z.infer<typeof LlmChatMessage>;

/** A JSON Schema object (the subset llama.cpp's grammar converter understands). */
const JsonSchema = z.record(z.string(), z.unknown());

export const LlmPayload = z
  .strictObject({
    /** Raw text completion: the prompt is fed as is, no chat template. */
    prompt: z.string().max(1_000_000).optional(),
    /** Chat: formatted with the model's own chat template; the model answers the last message. */
    messages: z.array(LlmChatMessage).min(1).max(10_000).optional(),
    max_tokens: z.number().int().min(1).max(1_000_000).optional(),
    /** 0 is greedy (deterministic). */
    temperature: z.number().min(0).max(10).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    /** Generation ends when any of these appears; it is not part of the text. */
    stop: z.array(z.string().min(1).max(500)).max(16).optional(),
    /** With temperature > 0: the same seed gives the same text on the same model and machine. */
    seed: z.number().int().min(0).max(0xffffffff).optional(),
    /** Constrains the output to JSON matching this schema (a grammar). */
    json_schema: JsonSchema.optional(),
    /** Returns the prompt's embedding vector instead of generating. */
    embedding: z.boolean().optional(),
  })
  .refine((p) => (p.prompt === undefined) !== (p.messages === undefined), {
    message: "give exactly one of prompt or messages",
  })
  .refine((p) => !p.embedding || p.prompt !== undefined, { message: "embedding needs prompt" });
export type LlmPayload = z.infer<typeof LlmPayload>;

/** stop: end of text or a stop string; length: max_tokens or the context filled; error: partial. */
export const LlmFinishReason = z.enum(["stop", "length", "error"]);
export type LlmFinishReason = z.infer<typeof LlmFinishReason>;

export const LlmCompletionOutput = z.object({
  text: z.string(),
  /** Tokens generated. */
  tokens_used: z.number().int().nonnegative(),
  prompt_tokens: z.number().int().nonnegative(),
  /** From the start of the run on the agent (model load and queueing included) to the end. */
  duration_ms: z.number().nonnegative(),
  finish_reason: LlmFinishReason,
});
export type LlmCompletionOutput = z.infer<typeof LlmCompletionOutput>;

export const LlmEmbeddingOutput = z.object({
  embedding: z.array(z.number()),
  dimensions: z.number().int().positive(),
  prompt_tokens: z.number().int().nonnegative(),
  duration_ms: z.number().nonnegative(),
});
export type LlmEmbeddingOutput = z.infer<typeof LlmEmbeddingOutput>;

export const LlmOutput = z.union([LlmCompletionOutput, LlmEmbeddingOutput]);
export type LlmOutput = z.infer<typeof LlmOutput>;
