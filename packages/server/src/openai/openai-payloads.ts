import type { ChatCompletionRequest, CompletionRequest, LlmFinishReason, LlmPayload } from "@gantry/protocol";

/** Sampling settings in the llm executor's payload (docs/llm.md), from OpenAI's names. */
function sampling(r: ChatCompletionRequest | CompletionRequest): Partial<LlmPayload> {
  const p: Partial<LlmPayload> = {};
  if (r.temperature != null) p.temperature = r.temperature;
  if (r.top_p != null) p.top_p = r.top_p;
  if (r.top_k != null) p.top_k = r.top_k;
  if (r.seed != null) p.seed = r.seed;
  if (r.stop != null) p.stop = typeof r.stop === "string" ? [r.stop] : r.stop;
  return p;
}

/** A chat request as an `llm.<model>` payload: messages through the model's own chat template. */
export function chatPayload(r: ChatCompletionRequest): LlmPayload {
  const messages = r.messages.map((m) => ({
    role: m.role === "developer" ? ("system" as const) : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((part) => part.text).join(""),
  }));
  const p: LlmPayload = { messages, ...sampling(r) };
  const max = r.max_completion_tokens ?? r.max_tokens;
  if (max != null) p.max_tokens = max;
  const format = r.response_format;
  if (format?.type === "json_object") p.json_schema = { type: "object" };
  else if (format?.type === "json_schema") p.json_schema = format.json_schema.schema;
  return p;
}

/** OpenAI's legacy completions default to 16 tokens. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

/** A completion request as an `llm.<model>` payload: the prompt as is, no chat template. */
export function completionPayload(r: CompletionRequest): LlmPayload {
  const prompt = typeof r.prompt === "string" ? r.prompt : r.prompt[0]!;
  return { prompt, max_tokens: r.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS, ...sampling(r) };
}

/** OpenAI has no `error` reason: a completed job's text ended one of the two ways it knows. */
export function finishReason(r: LlmFinishReason): "stop" | "length" {
  return r === "length" ? "length" : "stop";
}
