import type { LlamaRuntime } from "./llama-runtime.ts";
import { isDeviceLost, LlmError } from "./llm-error.ts";
import { LoadedModel } from "./loaded-model.ts";
import type { ModelEntry } from "./model-catalog.ts";
import { Quarantine } from "./quarantine.ts";

export interface ModelManagerOptions {
  maxLoadedModels: number;
  sequences: number;
  contextSize: number;
  quarantineMs: number;
  /** Where quarantines persist (see Quarantine); none: memory only. */
  quarantineFile: string | undefined;
  log: (line: string) => void;
  /** A model was quarantined until `until` (epoch ms): what is offered changed. */
  onQuarantine?: (name: string, until: number) => void;
}

/**
 * Which models are in memory. At most `maxLoadedModels` at once: a run for another model waits until
 * the least recently used idle one is unloaded (never one in use), then loads its own. Loads happen
 * one at a time, so two swaps never compete for the same VRAM. A model that fails to load is
 * quarantined: `quarantinedUntil(entry)` says until when it should not be offered.
 */
export class ModelManager {
  readonly #rt: LlamaRuntime;
  readonly #o: ModelManagerOptions;
  readonly #loaded = new Map<string, LoadedModel>();
  readonly #quarantine: Quarantine;
  /** Serialises loads and unloads. */
  #chain: Promise<unknown> = Promise.resolve();
  /** Woken when a model stops being in use (a swap may be waiting for it). */
  #idle: Array<() => void> = [];
  /** Loads in progress: new runs then queue behind them, so a swap never starves. */
  #swapsWaiting = 0;

  constructor(rt: LlamaRuntime, options: ModelManagerOptions) {
    this.#rt = rt;
    this.#o = options;
    this.#quarantine = new Quarantine(options.quarantineFile);
  }

  get loaded(): LoadedModel[] {
    return [...this.#loaded.values()];
  }

  quarantinedUntil(entry: ModelEntry): number | undefined {
    return this.#quarantine.until(entry);
  }

  /** The loaded model, loading it (and unloading others) first if needed. Call `done(m)` after. */
  async acquire(entry: ModelEntry, signal: AbortSignal): Promise<LoadedModel> {
    const until = this.quarantinedUntil(entry);
    if (until !== undefined) {
      throw new LlmError(
        "model",
        `${entry.name} failed to load recently; not retried here before ${new Date(until).toISOString()}`,
        {
          quarantinedUntil: until,
        },
      );
    }
    const have = this.#current(entry);
    if (have && this.#swapsWaiting === 0) {
      have.inUse++;
      return have;
    }
    // Reserved (inUse) inside the serial section, so a swap queued next cannot unload it first.
    return this.#serial(async () => {
      const m = await this.#load(entry, signal);
      m.inUse++;
      return m;
    });
  }

  done(m: LoadedModel): void {
    m.inUse--;
    m.lastUsed = Date.now();
    if (m.inUse === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch(() => {});
    return next;
  }

  #current(entry: ModelEntry): LoadedModel | undefined {
    const have = this.#loaded.get(entry.name);
    return have && have.entry.path === entry.path && have.entry.mtimeMs === entry.mtimeMs ? have : undefined;
  }

  async #load(entry: ModelEntry, signal: AbortSignal): Promise<LoadedModel> {
    const have = this.#current(entry); // queued behind a swap, and still loaded after it
    if (have) return have;
    // Until this load is done, runs on loaded models queue behind it: else a steady stream of them
    // keeps the model it must unload busy for ever.
    this.#swapsWaiting++;
    try {
      const stale = this.#loaded.get(entry.name); // the file changed since it was loaded
      if (stale) await this.#unloadWhenIdle(stale, signal);
      while (this.#loaded.size >= this.#o.maxLoadedModels) {
        const idle = [...this.#loaded.values()].filter((m) => m.inUse === 0).sort((a, b) => a.lastUsed - b.lastUsed);
        if (idle[0]) {
          this.#o.log(`llm: unloading ${idle[0].entry.name} to make room for ${entry.name}`);
          await this.#unload(idle[0]);
        } else {
          await this.#nextIdle(signal);
        }
      }
      return await this.#loadFile(entry);
    } finally {
      this.#swapsWaiting--;
    }
  }

  async #loadFile(entry: ModelEntry): Promise<LoadedModel> {
    const started = Date.now();
    try {
      const vram = this.#rt.backend === "cpu" ? null : await this.#rt.llama.getVramState();
      const m = await LoadedModel.load(this.#rt, entry, this.#o.sequences, this.#o.contextSize);
      this.#loaded.set(entry.name, m);
      const free = vram ? `, ${Math.round(vram.free / 1048576)} MB VRAM free before` : "";
      this.#o.log(`llm: loaded ${entry.name} in ${Date.now() - started} ms (gpu layers ${m.model.gpuLayers}${free})`);
      return m;
    } catch (err) {
      if (isDeviceLost(err))
        throw new LlmError("fatal", `GPU lost while loading ${entry.name}: ${(err as Error).message}`);
      const until = Date.now() + this.#o.quarantineMs;
      this.#quarantine.add(entry, until, (err as Error).message);
      this.#o.log(`llm: ${entry.name} failed to load, not offered until ${new Date(until).toISOString()}`);
      this.#o.onQuarantine?.(entry.name, until);
      throw new LlmError("model", `${entry.name} failed to load: ${(err as Error).message}`, {
        quarantinedUntil: until,
        cause: err,
      });
    }
  }

  #nextIdle(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new LlmError("cancelled", "cancelled while waiting for a model swap"));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#idle.push(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  async #unloadWhenIdle(m: LoadedModel, signal: AbortSignal): Promise<void> {
    while (m.inUse > 0) await this.#nextIdle(signal);
    await this.#unload(m);
  }

  async #unload(m: LoadedModel): Promise<void> {
    if (this.#loaded.get(m.entry.name) === m) this.#loaded.delete(m.entry.name);
    await m.dispose();
  }

  /** Unloads models whose file is gone from the catalog (when idle). */
  async forget(keep: (name: string) => boolean): Promise<void> {
    for (const m of this.loaded) if (!keep(m.entry.name) && m.inUse === 0) await this.#serial(() => this.#unload(m));
  }

  /** Unloads everything (drain, stop). Runs still going are cut off by the dispose. */
  async unloadAll(): Promise<void> {
    await this.#serial(async () => {
      for (const m of this.loaded) await this.#unload(m);
    });
  }
}
