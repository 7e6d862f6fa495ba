import type { LlamaContext, LlamaContextSequence, LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import type { LlamaRuntime } from "./llama-runtime.ts";
import { LlmError } from "./llm-error.ts";
import type { ModelEntry } from "./model-catalog.ts";

interface Waiter {
  resolve: (seq: LlamaContextSequence) => void;
  reject: (err: Error) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * A model in memory with one context of `sequences` sequences. Runs borrow a sequence (FIFO when all
 * are busy); sequences of one context are evaluated in the same batch, so concurrent runs share each
 * forward pass. After an inference error the context is recreated (`recreateContext`).
 */
export class LoadedModel {
  readonly entry: ModelEntry;
  readonly model: LlamaModel;
  readonly #rt: LlamaRuntime;
  readonly #sequences: number;
  readonly #contextSize: number;
  #context: LlamaContext;
  #free: LlamaContextSequence[] = [];
  #waiters: Waiter[] = [];
  #embedding: Promise<LlamaEmbeddingContext> | undefined;
  /** Runs holding a sequence or waiting for one; the manager never unloads a model in use. */
  inUse = 0;
  lastUsed = Date.now();

  private constructor(rt: LlamaRuntime, entry: ModelEntry, model: LlamaModel, context: LlamaContext, seqs: number) {
    this.#rt = rt;
    this.entry = entry;
    this.model = model;
    this.#sequences = seqs;
    this.#contextSize = context.contextSize;
    this.#context = context;
    this.#fill();
  }

  static async load(rt: LlamaRuntime, entry: ModelEntry, sequences: number, contextSize: number): Promise<LoadedModel> {
    // gpuLayers "auto" fits the layers to the free VRAM (node-llama-cpp's memory estimate) and
    // throws InsufficientMemoryError before allocating when the model cannot fit at all.
    const model = await rt.llama.loadModel({ modelPath: entry.path, gpuLayers: "auto" });
    try {
      const size = contextSize > 0 ? contextSize : Math.min(entry.contextTrain || 4096, 4096);
      const context = await model.createContext({ contextSize: size, sequences, threads: rt.threads });
      return new LoadedModel(rt, entry, model, context, sequences);
    } catch (err) {
      await model.dispose().catch(() => {});
      throw err;
    }
  }

  /** The current context (replaced by recreateContext). */
  get context(): LlamaContext {
    return this.#context;
  }

  get contextSize(): number {
    return this.#contextSize;
  }

  #fill(): void {
    this.#free = [];
    while (this.#context.sequencesLeft > 0) this.#free.push(this.#context.getSequence());
  }

  /** A sequence with an empty history; waits (FIFO) while all are busy. Rejects `cancelled` on abort. */
  async acquire(signal: AbortSignal): Promise<LlamaContextSequence> {
    if (signal.aborted) throw new LlmError("cancelled", "cancelled before it started");
    const seq =
      this.#free.pop() ??
      (await new Promise<LlamaContextSequence>((resolve, reject) => {
        const w: Waiter = {
          resolve,
          reject,
          signal,
          onAbort: () => {
            this.#waiters.splice(this.#waiters.indexOf(w), 1);
            reject(new LlmError("cancelled", "cancelled while waiting for a free sequence"));
          },
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
        this.#waiters.push(w);
      }));
    await seq.clearHistory();
    return seq;
  }

  release(seq: LlamaContextSequence): void {
    this.lastUsed = Date.now();
    if (seq.disposed || seq.context !== this.#context) return; // from a context since recreated
    const w = this.#waiters.shift();
    if (!w) {
      this.#free.push(seq);
      return;
    }
    w.signal.removeEventListener("abort", w.onAbort);
    w.resolve(seq);
  }

  /** Replaces the context after an inference error: a failed decode can leave its KV cache unusable. */
  async recreateContext(): Promise<void> {
    const old = this.#context;
    this.#context = await this.model.createContext({
      contextSize: this.#contextSize,
      sequences: this.#sequences,
      threads: this.#rt.threads,
    });
    await old.dispose().catch(() => {});
    this.#fill();
    for (let i = this.#waiters.length; i > 0 && this.#free.length > 0; i--) this.release(this.#free.pop()!);
  }

  /** One embedding context, created on first use (it costs its own KV memory). */
  embeddingContext(): Promise<LlamaEmbeddingContext> {
    this.#embedding ??= this.model.createEmbeddingContext({
      contextSize: this.#contextSize,
      threads: this.#rt.threads,
    });
    return this.#embedding;
  }

  /** Runs one token through a free sequence; null when it answers (or is busy answering others). */
  async ping(timeoutMs: number): Promise<string | null> {
    const seq = this.#free.pop();
    if (!seq) return null;
    try {
      const tokens = this.model.tokenize("ping");
      const evaluation = seq.evaluate(tokens, { temperature: 0 });
      const next = await Promise.race([
        evaluation.next(),
        new Promise<"timeout">((r) => setTimeout(r, timeoutMs, "timeout").unref()),
      ]);
      void evaluation.return(undefined);
      return next === "timeout" ? `${this.entry.name} did not answer within ${timeoutMs} ms` : null;
    } catch (err) {
      return `${this.entry.name} failed to answer: ${(err as Error).message}`;
    } finally {
      await seq.clearHistory().catch(() => {});
      this.release(seq);
    }
  }

  async dispose(): Promise<void> {
    for (const w of this.#waiters.splice(0)) {
      w.signal.removeEventListener("abort", w.onAbort);
      w.reject(new LlmError("model", `${this.entry.name} was unloaded`));
    }
    await (await this.#embedding?.catch(() => undefined))?.dispose().catch(() => {});
    await this.#context.dispose().catch(() => {});
    await this.model.dispose().catch(() => {});
  }
}
