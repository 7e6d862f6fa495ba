import {
  ChatCompletion,
  ChatCompletionRequest,
  Completion,
  CompletionRequest,
  capabilityAllowed,
  EmbeddingRequest,
  EmbeddingResponse,
  GantryError,
  type JobEvent,
  type LlmCompletionOutput,
  type LlmEmbeddingOutput,
  LlmPayload,
  ModelsResponse,
  OPENAI_BODY_LIMIT,
  OpenAiErrorBody,
  type OpenAiUsage,
  StreamedText,
  SubmitJobRequest,
} from "@gantry/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Principal } from "../auth/principals.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import type { JobRecord } from "../store/store.ts";
import { capabilityFor, failedJobError, runLlmJobs } from "./llm-job.ts";
import { onlineModels } from "./online-models.ts";
import { installOpenAiErrors, openAiError } from "./openai-errors.ts";
import { chatPayload, completionPayload, finishReason } from "./openai-payloads.ts";

const KEEPALIVE_MS = 15_000;
/** Bytes a streaming client may leave unread before its stream is ended (and its job cancelled). */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;
const errors = { 400: OpenAiErrorBody, 401: OpenAiErrorBody, 403: OpenAiErrorBody, 404: OpenAiErrorBody };

type Kind = "chat" | "completion";

/** One llm job request, checked as the native submit route would check it. */
function jobRequest(capability: string, payload: LlmPayload): SubmitJobRequest {
  const llm = LlmPayload.safeParse(payload);
  const parsed = llm.success ? SubmitJobRequest.safeParse({ capability, payload }) : llm;
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GantryError("validation_failed", `Invalid request: ${issue?.message ?? "does not match the schema"}.`);
  }
  return { capability, payload };
}

function usageOf(out: { prompt_tokens: number; tokens_used: number }): OpenAiUsage {
  return {
    prompt_tokens: out.prompt_tokens,
    completion_tokens: out.tokens_used,
    total_tokens: out.prompt_tokens + out.tokens_used,
  };
}

/**
 * The OpenAI-compatible API: any OpenAI SDK can use the fleet with a client key as its API key.
 * `model` is capability `llm.<model>`; each request is an ordinary job (visible in `GET /v1/jobs`,
 * cancellable, retried); `stream: true` answers in OpenAI's chunk format as tokens arrive; a client
 * that goes away cancels its job. Errors here use OpenAI's shape. See docs/llm.md.
 */
export const openAiRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  installOpenAiErrors(app);
  const read = requireScope(ctx.principals, "jobs:read");
  const write = requireScope(ctx.principals, "jobs:write");

  /** Submits the job; answers at once (stream) or once it ended. */
  const generate = async (
    request: FastifyRequest,
    reply: FastifyReply,
    kind: Kind,
    model: string,
    payload: LlmPayload,
    stream: { on: boolean; usage: boolean },
  ) => {
    const principal = principalOf(request);
    const capability = await capabilityFor(ctx, principal, model);
    const job = jobRequest(capability, payload);
    if (stream.on) return streamAnswer(principal, reply, kind, model, job, stream.usage);
    const run = await runLlmJobs(ctx, principal, [job]);
    const gone = () => {
      if (!reply.raw.writableEnded) run.cancel();
    };
    reply.raw.on("close", gone);
    const [done] = await run.done.finally(() => reply.raw.off("close", gone));
    if (done!.status !== "completed") throw failedJobError(done!);
    const out = done!.output as LlmCompletionOutput;
    const base = { created: Math.floor(done!.createdAt / 1000), model, usage: usageOf(out) };
    const finish_reason = finishReason(out.finish_reason);
    if (kind === "chat") {
      const message = { role: "assistant" as const, content: out.text };
      const answer: ChatCompletion = {
        id: `chatcmpl-${done!.id}`,
        object: "chat.completion",
        ...base,
        choices: [{ index: 0, message, finish_reason, logprobs: null }],
      };
      return reply.header("x-gantry-job-id", done!.id).send(answer);
    }
    const answer: Completion = {
      id: `cmpl-${done!.id}`,
      object: "text_completion",
      ...base,
      choices: [{ index: 0, text: out.text, finish_reason, logprobs: null }],
    };
    return reply.header("x-gantry-job-id", done!.id).send(answer);
  };

  /** `text/event-stream`: `data: {chunk}` per token batch, the finish, usage if asked, `data: [DONE]`. */
  const streamAnswer = async (
    principal: Principal,
    reply: FastifyReply,
    kind: Kind,
    model: string,
    job: SubmitJobRequest,
    includeUsage: boolean,
  ) => {
    let early: Extract<JobEvent, { type: "tokens" }>[] = [];
    let onTokens = (e: Extract<JobEvent, { type: "tokens" }>) => void early.push(e);
    const run = await runLlmJobs(ctx, principal, [job], (e) => onTokens(e));
    const record: JobRecord = run.jobs[0]!;
    const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${record.id}`;
    const object = kind === "chat" ? "chat.completion.chunk" : "text_completion";
    const created = Math.floor(record.createdAt / 1000);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-gantry-job-id": record.id,
    });
    let ended = false;
    const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(keepalive);
      res.end();
    };
    const send = (data: unknown) => {
      if (ended) return;
      res.write(`data: ${JSON.stringify(data)}\n\n`);
      if (res.writableLength > MAX_UNREAD_BYTES) {
        run.cancel();
        end();
      }
    };
    const chunk = (text: string, finish: "stop" | "length" | null, first = false) =>
      kind === "chat"
        ? {
            id,
            object,
            created,
            model,
            choices: [
              {
                index: 0,
                delta: first ? { role: "assistant", content: text } : finish ? {} : { content: text },
                finish_reason: finish,
                logprobs: null,
              },
            ],
          }
        : { id, object, created, model, choices: [{ index: 0, text, finish_reason: finish, logprobs: null }] };
    res.on("close", () => {
      if (!ended) run.cancel();
      end();
    });
    if (kind === "chat") send(chunk("", null, true));
    const text = new StreamedText();
    onTokens = (e) => {
      const more = text.push(e);
      if (more) send(chunk(more, null));
    };
    for (const e of early) onTokens(e);
    early = [];
    try {
      const [done] = await run.done;
      if (done!.status !== "completed") {
        const err = failedJobError(done!);
        send(openAiError(err.status, err.toEnvelope()));
        return end();
      }
      const out = done!.output as LlmCompletionOutput;
      const rest = text.finish(out.text);
      if (rest) send(chunk(rest, null));
      send(chunk("", finishReason(out.finish_reason)));
      if (includeUsage) send({ id, object, created, model, choices: [], usage: usageOf(out) });
      if (!ended) res.write("data: [DONE]\n\n");
    } catch (err) {
      ctx.log.error({ err }, "streaming an llm answer failed");
      send(openAiError(500, new GantryError("internal_error").toEnvelope()));
    }
    end();
  };

  app.post(
    "/v1/chat/completions",
    {
      preHandler: write,
      bodyLimit: OPENAI_BODY_LIMIT,
      schema: {
        summary: "OpenAI-compatible chat completion (an llm.<model> job; stream: true for chunks)",
        tags: ["openai"],
        body: ChatCompletionRequest,
        response: { 200: ChatCompletion, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const stream = { on: b.stream === true, usage: b.stream_options?.include_usage === true };
      return generate(request, reply, "chat", b.model, chatPayload(b), stream);
    },
  );

  app.post(
    "/v1/completions",
    {
      preHandler: write,
      bodyLimit: OPENAI_BODY_LIMIT,
      schema: {
        summary: "OpenAI-compatible text completion (an llm.<model> job; stream: true for chunks)",
        tags: ["openai"],
        body: CompletionRequest,
        response: { 200: Completion, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const stream = { on: b.stream === true, usage: b.stream_options?.include_usage === true };
      return generate(request, reply, "completion", b.model, completionPayload(b), stream);
    },
  );

  app.post(
    "/v1/embeddings",
    {
      preHandler: write,
      bodyLimit: OPENAI_BODY_LIMIT,
      schema: {
        summary: "OpenAI-compatible embeddings (one llm.<model> job per input)",
        tags: ["openai"],
        body: EmbeddingRequest,
        response: { 200: EmbeddingResponse, ...errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const capability = await capabilityFor(ctx, principal, b.model);
      const inputs = typeof b.input === "string" ? [b.input] : b.input;
      const jobs = inputs.map((prompt) => jobRequest(capability, { prompt, embedding: true }));
      const run = await runLlmJobs(ctx, principal, jobs);
      const gone = () => {
        if (!reply.raw.writableEnded) run.cancel();
      };
      reply.raw.on("close", gone);
      const done = await run.done.finally(() => reply.raw.off("close", gone));
      const failed = done.find((j) => j.status !== "completed");
      if (failed) throw failedJobError(failed);
      let promptTokens = 0;
      const data = done.map((j, index) => {
        const out = j.output as LlmEmbeddingOutput;
        promptTokens += out.prompt_tokens;
        const embedding =
          b.encoding_format === "base64"
            ? Buffer.from(new Float32Array(out.embedding).buffer).toString("base64")
            : out.embedding;
        return { object: "embedding" as const, index, embedding };
      });
      const answer: EmbeddingResponse = {
        object: "list",
        data,
        model: b.model,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      };
      return answer;
    },
  );

  app.get(
    "/v1/models",
    {
      preHandler: read,
      schema: {
        summary: "The llm.* models online across the fleet (OpenAI's model list)",
        tags: ["openai"],
        response: { 200: ModelsResponse, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const models = [...(await onlineModels(ctx)).values()]
        .filter((m) => capabilityAllowed(principal.capabilities, `llm.${m.id}`))
        .sort((a, b) => a.id.localeCompare(b.id));
      const answer: ModelsResponse = { object: "list", data: models };
      return answer;
    },
  );
};
