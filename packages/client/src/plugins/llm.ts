import {
  type Job,
  type LlmChatMessage,
  type LlmCompletionOutput,
  type LlmEmbeddingOutput,
  LlmPayload,
  ModelsResponse,
  type OpenAiModel,
  StreamedText,
  type SubmitJobRequest,
} from "@gantry/protocol";
import { JobCancelledError, JobFailedError } from "../errors.ts";
import type { CallOptions, GantryClient } from "../gantry-client.ts";
import type { HttpTransport } from "../http-transport.ts";

/** Generation settings (the `llm.<model>` payload without prompt/messages; see docs/llm.md). */
export type LlmSettings = Omit<LlmPayload, "prompt" | "messages" | "embedding">;

/** Options of `llm.complete` and `llm.chat`: generation settings plus the job's own fields. */
export interface LlmCallOptions
  extends LlmSettings,
    Omit<SubmitJobRequest, "capability" | "payload" | "inputs" | "idempotencyKey"> {
  /** Aborts the submit request (not the job: use `cancel()`). */
  signal?: AbortSignal | undefined;
}

/** A finished llm job with its output typed. */
export type LlmJob<O = LlmCompletionOutput> = Omit<Job, "output"> & { output: O };

/** A submitted `llm.<model>` job, followed live. */
export interface LlmRun extends Job {
  /**
   * The generated text, piece by piece as tokens arrive (MQTT or the WebSocket; with polling, all at
   * the end). Lossless: the pieces join to the output's `text`, whatever was missed live is added at
   * the end. Ends when the job completes; throws JobFailedError or JobCancelledError otherwise.
   * One consumer.
   */
  tokens: AsyncIterable<string>;
  /** The whole text once the job completed. */
  text(): Promise<string>;
  /** The finished job (throws JobFailedError or JobCancelledError unless it completed). */
  wait(): Promise<LlmJob>;
  /** Cancels the job; generation stops at once and `tokens` ends with JobCancelledError. */
  cancel(): Promise<Job>;
}

type Piece = { text: string } | { end: true } | { error: Error };

/** Pieces pushed by callbacks, pulled by one `for await`. */
function pieceQueue() {
  const queue: Piece[] = [];
  let wake: (() => void) | undefined;
  const push = (p: Piece) => {
    queue.push(p);
    wake?.();
    wake = undefined;
  };
  async function* pull(): AsyncGenerator<string, void, undefined> {
    for (;;) {
      const p = queue.shift();
      if (!p) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      if ("text" in p) yield p.text;
      else if ("end" in p) return;
      else throw p.error;
    }
  }
  return { push, pull };
}

function split(opts: LlmCallOptions): { settings: LlmSettings; job: Omit<LlmCallOptions, keyof LlmSettings> } {
  const { max_tokens, temperature, top_p, top_k, stop, seed, json_schema, ...job } = opts;
  const settings: LlmSettings = { max_tokens, temperature, top_p, top_k, stop, seed, json_schema };
  for (const k of Object.keys(settings) as (keyof LlmSettings)[]) if (settings[k] === undefined) delete settings[k];
  return { settings, job };
}

async function run(
  client: GantryClient,
  model: string,
  payload: LlmPayload,
  job: Omit<LlmCallOptions, keyof LlmSettings>,
): Promise<LlmRun> {
  const checked = LlmPayload.parse(payload); // the server's own schema: a bad payload fails before submitting
  const capability = `llm.${model.replace(/^llm\./, "")}`;
  const text = new StreamedText();
  const pieces = pieceQueue();
  let settle!: (job: Job) => void;
  let fail!: (err: Error) => void;
  const finished = new Promise<Job>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  finished.catch(() => {}); // observed through wait(), text() or tokens
  const submitted = await client.submit(capability, checked as Record<string, unknown>, {
    ...job,
    onTokens: (t) => {
      const more = text.push(t);
      if (more) pieces.push({ text: more });
    },
    onComplete: (done) => {
      if (done.status === "completed") {
        const rest = text.finish((done.output as LlmCompletionOutput).text);
        if (rest) pieces.push({ text: rest });
        pieces.push({ end: true });
        settle(done);
        return;
      }
      const err = done.status === "cancelled" ? new JobCancelledError(done) : new JobFailedError(done);
      pieces.push({ error: err });
      fail(err);
    },
    onError: (err) => {
      pieces.push({ error: err });
      fail(err);
    },
  });
  const wait = async () => (await finished) as LlmJob;
  return {
    ...submitted,
    tokens: { [Symbol.asyncIterator]: () => pieces.pull() },
    wait,
    text: async () => (await wait()).output.text,
    cancel: () => client.cancel(submitted.id),
  };
}

/**
 * `client.llm`: completions and chat on the fleet's `llm.<model>` capabilities, with the text
 * streamed as tokens arrive. Each call is an ordinary job (visible, cancellable, retried).
 *
 * ```ts
 * const run = await client.llm.chat("tinyllama", [{ role: "user", content: "hi" }], { max_tokens: 64 });
 * for await (const piece of run.tokens) process.stdout.write(piece);
 * ```
 */
export function llmHelpers(client: GantryClient, http: HttpTransport) {
  return {
    /** The `llm.*` models online across the fleet (`GET /v1/models`), by name. */
    async models(opts: CallOptions = {}): Promise<OpenAiModel[]> {
      const res = await http.request({
        method: "GET",
        path: "/v1/models",
        schema: ModelsResponse,
        retryable: true,
        signal: opts.signal,
      });
      return res.data;
    },
    /** A raw completion: the prompt is fed as is (no chat template). */
    complete(model: string, prompt: string, opts: LlmCallOptions = {}): Promise<LlmRun> {
      const { settings, job } = split(opts);
      return run(client, model, { ...settings, prompt }, job);
    },
    /** Chat through the model's own template; the model answers the last message. */
    chat(model: string, messages: readonly LlmChatMessage[], opts: LlmCallOptions = {}): Promise<LlmRun> {
      const { settings, job } = split(opts);
      return run(client, model, { ...settings, messages: [...messages] }, job);
    },
    /** The text's embedding vector (the model's embedding context); resolves when done. */
    async embed(
      model: string,
      text: string,
      opts: Omit<LlmCallOptions, keyof LlmSettings> = {},
    ): Promise<LlmJob<LlmEmbeddingOutput>> {
      const capability = `llm.${model.replace(/^llm\./, "")}`;
      const done = await client.submit(capability, { prompt: text, embedding: true }, { ...opts, wait: true });
      return done as LlmJob<LlmEmbeddingOutput>;
    },
  } as const;
}
export type LlmHelpers = ReturnType<typeof llmHelpers>;
