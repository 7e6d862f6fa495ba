import type { LlmCompletionOutput, LlmFinishReason, LlmPayload } from "@gantry/protocol";
import type { ChatHistoryItem, LlamaContextSequence, LlamaGrammar } from "node-llama-cpp";
import type { LlamaRuntime } from "./llama-runtime.ts";
import { isDeviceLost, LlmError } from "./llm-error.ts";
import type { LoadedModel } from "./loaded-model.ts";

export interface RunHooks {
  /** Aborting stops generation at once; the run then rejects `cancelled` with the partial text. */
  signal: AbortSignal;
  /** Each piece of generated text, in order, as soon as it is decoded. */
  onToken?: (text: string) => void;
}

/** Sampling defaults when the payload gives none: llama.cpp's own CLI defaults. */
export const samplingDefaults = { temperature: 0.8, top_k: 40, top_p: 0.95 } as const;

const FINISH: Record<string, LlmFinishReason> = {
  eogToken: "stop",
  stopGenerationTrigger: "stop",
  customStopTrigger: "stop",
  functionCalls: "stop",
  maxTokens: "length",
};

function chatHistory(messages: NonNullable<LlmPayload["messages"]>): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === "system"
      ? { type: "system", text: m.content }
      : m.role === "user"
        ? { type: "user", text: m.content }
        : { type: "model", response: [m.content] },
  );
  history.push({ type: "model", response: [] }); // the turn the model fills
  return history;
}

async function grammarFor(rt: LlamaRuntime, schema: LlmPayload["json_schema"]): Promise<LlamaGrammar | undefined> {
  if (!schema) return undefined;
  try {
    // biome-ignore lint/suspicious/noExplicitAny: a JSON Schema from the wire; llama.cpp's converter validates it.
    return await rt.llama.createGrammarForJsonSchema(schema as any);
  } catch (err) {
    throw new LlmError("bad_request", `json_schema is not usable as a grammar: ${(err as Error).message}`);
  }
}

/** One completion or chat turn on a loaded model. See LlmError for how each failure ends. */
export async function generateText(
  rt: LlamaRuntime,
  m: LoadedModel,
  payload: LlmPayload,
  hooks: RunHooks,
  startedAt: number,
  defaultMaxTokens: number,
): Promise<LlmCompletionOutput> {
  const grammar = await grammarFor(rt, payload.json_schema);
  const seq: LlamaContextSequence = await m.acquire(hooks.signal);
  let text = "";
  let tokens = 0;
  let promptTokens = 0;
  const output = (finish: LlmFinishReason): LlmCompletionOutput => ({
    text,
    tokens_used: tokens,
    prompt_tokens: promptTokens,
    duration_ms: Date.now() - startedAt,
    finish_reason: finish,
  });
  const options = {
    maxTokens: payload.max_tokens ?? defaultMaxTokens,
    temperature: payload.temperature ?? samplingDefaults.temperature,
    topK: payload.top_k ?? samplingDefaults.top_k,
    topP: payload.top_p ?? samplingDefaults.top_p,
    ...(payload.seed !== undefined ? { seed: payload.seed } : {}),
    ...(payload.stop?.length ? { customStopTriggers: payload.stop } : {}),
    ...(grammar ? { grammar } : {}),
    signal: hooks.signal,
    stopOnAbortSignal: true,
    onToken: (t: readonly unknown[]) => {
      tokens += t.length;
    },
    onTextChunk: (chunk: string) => {
      text += chunk;
      hooks.onToken?.(chunk);
    },
  };
  try {
    let stopReason: string;
    if (payload.messages) {
      const chat = new rt.lib.LlamaChat({ contextSequence: seq, chatWrapper: "auto" });
      try {
        const history = chatHistory(payload.messages);
        promptTokens = chat.chatWrapper
          .generateContextState({ chatHistory: history })
          .contextText.tokenize(m.model.tokenizer).length;
        fits(m, promptTokens);
        const r = await chat.generateResponse(history, options);
        text = r.response; // the wrapper's own view (it may hold back a trailing stop-trigger prefix)
        stopReason = r.metadata.stopReason;
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    } else {
      const prompt = payload.prompt ?? "";
      promptTokens = m.model.tokenize(prompt).length;
      fits(m, promptTokens);
      const completion = new rt.lib.LlamaCompletion({ contextSequence: seq });
      try {
        const r = await completion.generateCompletionWithMeta(prompt, options);
        text = r.response;
        stopReason = r.metadata.stopReason;
      } finally {
        completion.dispose({ disposeSequence: false });
      }
    }
    if (stopReason === "abort" || hooks.signal.aborted) {
      throw new LlmError("cancelled", `cancelled after ${tokens} tokens`, { partial: output("error") });
    }
    return output(FINISH[stopReason] ?? "stop");
  } catch (err) {
    if (err instanceof LlmError) throw err;
    if (hooks.signal.aborted) {
      throw new LlmError("cancelled", `cancelled after ${tokens} tokens`, { partial: output("error") });
    }
    throw await failed(m, err, output("error"));
  } finally {
    m.release(seq);
  }
}

/** node-llama-cpp would silently drop the prompt's start; a prompt that does not fit is refused instead. */
function fits(m: LoadedModel, promptTokens: number): void {
  if (promptTokens < m.contextSize) return;
  throw new LlmError("bad_request", `the prompt is ${promptTokens} tokens; ${m.entry.name} holds ${m.contextSize}`);
}

/** A mid-generation failure: fatal when the GPU is gone, else inference (partial kept, context recreated). */
async function failed(m: LoadedModel, err: unknown, partial: LlmCompletionOutput): Promise<LlmError> {
  const message = (err as Error)?.message ?? String(err);
  if (isDeviceLost(err))
    return new LlmError("fatal", `GPU lost during generation: ${message}`, { partial, cause: err });
  try {
    await m.recreateContext();
  } catch (again) {
    if (isDeviceLost(again))
      return new LlmError("fatal", `GPU lost: ${(again as Error).message}`, { partial, cause: again });
    return new LlmError("model", `${m.entry.name} context could not be recreated: ${(again as Error).message}`, {
      partial,
      cause: again,
    });
  }
  return new LlmError("inference", `generation failed after ${partial.tokens_used} tokens: ${message}`, {
    partial,
    cause: err,
  });
}
