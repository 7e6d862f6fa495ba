import { z } from "zod";

/**
 * The OpenAI-compatible API (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`,
 * `/v1/models`): the subset of OpenAI's request and response shapes that maps onto `llm.<model>`
 * jobs (docs/llm.md). Requests are not strict: OpenAI clients send fields we do not use (`user`,
 * `logprobs: false`, …), which are ignored; fields we cannot honour (`n` > 1, tools) are refused.
 */

/** Largest request body on these routes: a chat history up to the job payload limit, with room. */
export const OPENAI_BODY_LIMIT = 1024 * 1024;
/** Inputs in one embeddings request (each becomes one job). */
export const OPENAI_EMBEDDING_INPUTS_MAX = 256;

/** A model name: `tiny-a` (or `llm.tiny-a`) is capability `llm.tiny-a`. */
const ModelName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/i, "must be a model name such as tinyllama-1b-q4");

const Stop = z.union([z.string().min(1).max(500), z.array(z.string().min(1).max(500)).max(16)]).nullish();

/** Sampling settings both generation routes share (OpenAI names; top_k is llama.cpp's extra). */
const Sampling = {
  model: ModelName,
  max_tokens: z.number().int().min(1).max(1_000_000).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  stop: Stop,
  seed: z.number().int().min(0).max(0xffffffff).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  n: z.literal(1).nullish(),
};

/** Text parts only: images and audio have no executor here. */
const ContentPart = z.object({ type: z.literal("text"), text: z.string().max(1_000_000) });
export const OpenAiChatMessage = z.object({
  /** `developer` is OpenAI's newer name for `system`. */
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string().max(1_000_000), z.array(ContentPart).max(1000)]),
  name: z.string().max(200).optional(),
});
export type OpenAiChatMessage = z.infer<typeof OpenAiChatMessage>;

const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({ name: z.string().max(200).optional(), schema: z.record(z.string(), z.unknown()) }),
  }),
]);

export const ChatCompletionRequest = z.object({
  ...Sampling,
  messages: z.array(OpenAiChatMessage).min(1).max(10_000),
  /** OpenAI's newer name for max_tokens. */
  max_completion_tokens: z.number().int().min(1).max(1_000_000).nullish(),
  response_format: ResponseFormat.nullish(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const CompletionRequest = z.object({
  ...Sampling,
  /** One prompt (a list of one is accepted, as OpenAI clients send it). */
  prompt: z.union([z.string().max(1_000_000), z.array(z.string().max(1_000_000)).length(1)]),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

export const EmbeddingRequest = z.object({
  model: ModelName,
  input: z.union([
    z.string().min(1).max(1_000_000),
    z.array(z.string().min(1)).min(1).max(OPENAI_EMBEDDING_INPUTS_MAX),
  ]),
  /** The official client asks for base64 (little-endian float32) unless told otherwise. */
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z.number().int().positive().nullish(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

export const OpenAiUsage = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});
export type OpenAiUsage = z.infer<typeof OpenAiUsage>;

export const OpenAiFinishReason = z.enum(["stop", "length"]);

export const ChatCompletion = z.object({
  /** `chatcmpl-<job id>`: the Gantry job behind the answer. */
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string() }),
      finish_reason: OpenAiFinishReason,
      logprobs: z.null(),
    }),
  ),
  usage: OpenAiUsage,
});
export type ChatCompletion = z.infer<typeof ChatCompletion>;

export const Completion = z.object({
  id: z.string(),
  object: z.literal("text_completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({ index: z.number().int(), text: z.string(), finish_reason: OpenAiFinishReason, logprobs: z.null() }),
  ),
  usage: OpenAiUsage,
});
export type Completion = z.infer<typeof Completion>;

export const EmbeddingResponse = z.object({
  object: z.literal("list"),
  data: z.array(
    z.object({
      object: z.literal("embedding"),
      index: z.number().int(),
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export type EmbeddingResponse = z.infer<typeof EmbeddingResponse>;

/** One model online (an `llm.*` capability some connected agent offers), with Gantry's extras. */
export const OpenAiModel = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number().int(),
  owned_by: z.string(),
  /** Connected agents offering it. */
  agents: z.number().int().nonnegative(),
  /** Attributes those agents advertise (`ctx:4096`, `quant:q4_k_m`, `gpu:cuda`), merged. */
  attributes: z.record(z.string(), z.union([z.string(), z.literal(true)])),
});
export type OpenAiModel = z.infer<typeof OpenAiModel>;
export const ModelsResponse = z.object({ object: z.literal("list"), data: z.array(OpenAiModel) });
export type ModelsResponse = z.infer<typeof ModelsResponse>;

/** OpenAI's error shape, used on these routes only (everything else answers the Gantry envelope). */
export const OpenAiErrorBody = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAiErrorBody = z.infer<typeof OpenAiErrorBody>;
