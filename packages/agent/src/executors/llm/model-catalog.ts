import { type FSWatcher, watch } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseCapability } from "@gantry/protocol";
import type { LlamaModule } from "./llama-runtime.ts";

/** One `*.gguf` file of the models directory, as read from its header. */
export interface ModelEntry {
  /** Capability base name: `llm.<file basename, lowercased>`. */
  name: string;
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  /** `<arch>.context_length`: the context the model was trained with. */
  contextTrain: number;
  /** From `general.file_type`, e.g. `q4_k_m`, `f32`; `unknown` when absent. */
  quant: string;
  architecture: string;
}

/** A file that is not offered, and why (unreadable header, a name that is no capability). */
export interface SkippedModel {
  path: string;
  reason: string;
}

/** "Llama 3.1 8B (Q4).gguf" → "llm.llama-3.1-8b-q4"; null when nothing valid is left. */
export function capabilityForFile(file: string): string | null {
  const base = basename(file)
    .replace(/\.gguf$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[-_.]+|[-_.]+$/g, "")
    .replace(/([-_.])[-_.]+/g, "$1");
  if (!base) return null;
  try {
    return parseCapability(`llm.${base}`).name;
  } catch {
    return null;
  }
}

async function readEntry(lib: LlamaModule, path: string, name: string): Promise<ModelEntry> {
  const st = await stat(path);
  const info = await lib.readGgufFileInfo(path, { readTensorInfo: false, logWarnings: false });
  const arch = String(info.metadata.general?.architecture ?? "unknown");
  const archMeta = info.architectureMetadata as { context_length?: number } | undefined;
  const fileType = info.metadata.general?.file_type;
  const quantName = fileType === undefined ? undefined : lib.GgufFileType[fileType];
  return {
    name,
    path,
    sizeBytes: st.size,
    mtimeMs: st.mtimeMs,
    contextTrain: Number(archMeta?.context_length ?? 0),
    quant: quantName ? quantName.replace(/^(MOSTLY|ALL)_/, "").toLowerCase() : "unknown",
    architecture: arch,
  };
}

/**
 * The models directory. `scan()` lists it again, re-reading only headers of files that changed;
 * `watch()` calls `onChange` after files appear, change or go (debounced: a copy in progress fires
 * many events).
 */
export class ModelCatalog {
  readonly #dir: string;
  readonly #lib: LlamaModule;
  #entries = new Map<string, ModelEntry>();
  #skipped: SkippedModel[] = [];
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(dir: string, lib: LlamaModule) {
    this.#dir = dir;
    this.#lib = lib;
  }

  get entries(): ReadonlyMap<string, ModelEntry> {
    return this.#entries;
  }

  get skipped(): readonly SkippedModel[] {
    return this.#skipped;
  }

  async scan(): Promise<void> {
    let files: string[];
    try {
      files = (await readdir(this.#dir)).filter((f) => f.toLowerCase().endsWith(".gguf")).sort();
    } catch {
      files = []; // no directory yet: no models
    }
    const next = new Map<string, ModelEntry>();
    const skipped: SkippedModel[] = [];
    for (const file of files) {
      const path = join(this.#dir, file);
      const name = capabilityForFile(file);
      if (!name) {
        skipped.push({ path, reason: "the file name gives no valid capability name" });
        continue;
      }
      if (next.has(name)) {
        skipped.push({ path, reason: `${name} is already served by ${next.get(name)!.path}` });
        continue;
      }
      try {
        const known = this.#entries.get(name);
        const st = await stat(path);
        const same = known && known.path === path && known.sizeBytes === st.size && known.mtimeMs === st.mtimeMs;
        next.set(name, same ? known : await readEntry(this.#lib, path, name));
      } catch (err) {
        skipped.push({ path, reason: `unreadable GGUF header: ${(err as Error).message}` });
      }
    }
    this.#entries = next;
    this.#skipped = skipped;
  }

  /** Starts watching the directory (it must exist); returns false when it cannot be watched. */
  watch(debounceMs: number, onChange: () => void): boolean {
    if (this.#watcher) return true;
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, (_event, file) => {
        if (file && !String(file).toLowerCase().endsWith(".gguf")) return; // our quarantine file, editor droppings
        clearTimeout(this.#timer);
        this.#timer = setTimeout(onChange, debounceMs);
        this.#timer.unref();
      });
      this.#watcher.on("error", () => this.close());
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}
