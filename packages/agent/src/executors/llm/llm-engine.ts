import { mkdir } from "node:fs/promises";
import { type LlmOutput, LlmPayload } from "@gantry/protocol";
import { embedText } from "./embed-text.ts";
import { generateText, type RunHooks } from "./generate-text.ts";
import { importLlama, type LlamaRuntime, startLlama } from "./llama-runtime.ts";
import { LlmError } from "./llm-error.ts";
import { type LlmOptions, resolveLlmOptions } from "./llm-options.ts";
import { ModelCatalog } from "./model-catalog.ts";
import { ModelManager } from "./model-manager.ts";

/** One model this agent offers: `llm.tiny-a` with `["gpu:cpu", "ctx:256", "quant:f32", "size_mb:1"]`. */
export interface LlmCapability {
  name: string;
  attributes: string[];
  /** As advertised: `llm.tiny-a[gpu:cpu;ctx:256;quant:f32;size_mb:1]`. */
  capability: string;
}

/**
 * The llm executor's core, independent of the agent's executor contract: the models directory as
 * capabilities, the model manager, and runs. The adapter (llm-executor.ts) maps it onto the contract.
 */
export class LlmEngine {
  readonly runtime: LlamaRuntime;
  readonly options: LlmOptions;
  readonly catalog: ModelCatalog;
  readonly models: ModelManager;
  readonly #listeners = new Set<() => void>();
  /** Set once the GPU is gone: nothing is offered or run any more, and health says why. */
  #lost: string | undefined;

  private constructor(runtime: LlamaRuntime, options: LlmOptions) {
    this.runtime = runtime;
    this.options = options;
    this.catalog = new ModelCatalog(options.modelsDir, runtime.lib);
    this.models = new ModelManager(runtime, {
      ...options,
      quarantineFile: options.quarantineFile === "" ? undefined : options.quarantineFile,
      // Offered models change now and again when the quarantine ends.
      onQuarantine: (_name, until) => {
        this.#tell();
        setTimeout(() => this.#tell(), until - Date.now() + 1).unref();
      },
    });
  }

  /** Starts llama.cpp and scans the models directory; a string says why llm cannot run here. */
  static async create(options: Partial<LlmOptions> & { modelsDir: string }): Promise<LlmEngine | string> {
    const o = resolveLlmOptions(options);
    const lib = await importLlama();
    if (typeof lib === "string") return lib;
    let rt: LlamaRuntime;
    try {
      rt = await startLlama(lib, o.gpu, o.threads);
    } catch (err) {
      return (err as Error).message;
    }
    const engine = new LlmEngine(rt, o);
    // Made if missing, so there is a folder to drop models into (and to watch).
    await mkdir(o.modelsDir, { recursive: true }).catch(() => {});
    await engine.rescan();
    if (o.watch) engine.catalog.watch(o.watchDebounceMs, () => void engine.#rescanAndTell());
    o.log(`llm: ${rt.backend}, ${rt.threads} threads, ${engine.catalog.entries.size} models in ${o.modelsDir}`);
    return engine;
  }

  /** Models offered now: every readable GGUF that is not quarantined. */
  capabilities(): LlmCapability[] {
    const out: LlmCapability[] = [];
    if (this.#lost) return out;
    for (const e of this.catalog.entries.values()) {
      if (this.models.quarantinedUntil(e) !== undefined) continue;
      const attributes = [`gpu:${this.runtime.backend}`, `ctx:${e.contextTrain}`, `quant:${e.quant}`];
      attributes.push(`size_mb:${Math.max(1, Math.round(e.sizeBytes / 1048576))}`);
      out.push({ name: e.name, attributes, capability: `${e.name}[${attributes.join(";")}]` });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Hears of changes to `capabilities()`: the directory watch, a quarantine starting or ending. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Lists the models directory again (the `rescan` command); unloads models whose file went. */
  async rescan(): Promise<void> {
    await this.catalog.scan();
    await this.models.forget((name) => this.catalog.entries.has(name));
  }

  async #rescanAndTell(): Promise<void> {
    await this.rescan().catch((err) => this.options.log(`llm: rescan failed: ${(err as Error).message}`));
    this.#tell();
  }

  #tell(): void {
    for (const l of this.#listeners) {
      try {
        l();
      } catch {}
    }
  }

  /** Until when `name` is not offered after a failed load (epoch ms), or undefined. */
  quarantinedUntil(name: string): number | undefined {
    const entry = this.catalog.entries.get(name);
    return entry && this.models.quarantinedUntil(entry);
  }

  /** Runs one job for model `name` (capability base name). Rejects with an LlmError. */
  async run(name: string, payload: unknown, hooks: RunHooks): Promise<LlmOutput> {
    const startedAt = Date.now();
    const parsed = LlmPayload.safeParse(payload);
    if (!parsed.success) {
      throw new LlmError("bad_request", `bad llm payload: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    }
    if (this.#lost) throw new LlmError("fatal", this.#lost);
    const entry = this.catalog.entries.get(name);
    if (!entry) throw new LlmError("model", `no model ${name} in ${this.options.modelsDir}`);
    try {
      const m = await this.models.acquire(entry, hooks.signal);
      try {
        if (parsed.data.embedding) return await embedText(m, parsed.data.prompt ?? "", hooks.signal, startedAt);
        return await generateText(this.runtime, m, parsed.data, hooks, startedAt, this.options.defaultMaxTokens);
      } finally {
        this.models.done(m);
      }
    } catch (err) {
      if (err instanceof LlmError && err.category === "fatal" && !this.#lost) {
        this.#lost = err.message;
        this.#tell();
      }
      throw err;
    }
  }

  /** The tokens a run of this payload may generate at most. */
  maxTokens(payload: unknown): number {
    const max = (payload as { max_tokens?: unknown } | null)?.max_tokens;
    return typeof max === "number" && max > 0 ? max : this.options.defaultMaxTokens;
  }

  /** Null when every loaded model still answers a one-token ping; else what is wrong. */
  async health(timeoutMs = 10_000): Promise<string | null> {
    if (this.#lost) return this.#lost;
    const problems = await Promise.all(this.models.loaded.map((m) => m.ping(timeoutMs)));
    const found = problems.filter(Boolean);
    return found.length ? found.join("; ") : null;
  }

  /** Unloads every model and stops watching (drain, stop). */
  async unload(): Promise<void> {
    this.catalog.close();
    await this.models.unloadAll();
  }
}
