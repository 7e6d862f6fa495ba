import { readFileSync, writeFileSync } from "node:fs";
import type { ModelEntry } from "./model-catalog.ts";

interface Record {
  until: number;
  /** The file it is about: a replaced file (other size or mtime) is not quarantined. */
  size: number;
  mtimeMs: number;
  reason: string;
}

/**
 * Models that failed to load here, not offered until a time. Kept in a small JSON file as well as in
 * memory: the agent re-detects in a fresh thread (a rescan), and a restart must not offer a broken
 * model again either. A file that cannot be read or written only loses that persistence.
 */
export class Quarantine {
  readonly #file: string | undefined;
  #records: { [name: string]: Record } = {};

  constructor(file: string | undefined) {
    this.#file = file;
    if (!file) return;
    try {
      this.#records = JSON.parse(readFileSync(file, "utf8")) as { [name: string]: Record };
    } catch {
      this.#records = {};
    }
  }

  /** Until when `entry` is not offered (epoch ms), or undefined. */
  until(entry: ModelEntry): number | undefined {
    const r = this.#records[entry.name];
    if (!r) return undefined;
    if (r.until > Date.now() && r.size === entry.sizeBytes && r.mtimeMs === entry.mtimeMs) return r.until;
    delete this.#records[entry.name];
    this.#save();
    return undefined;
  }

  add(entry: ModelEntry, until: number, reason: string): void {
    this.#records[entry.name] = { until, size: entry.sizeBytes, mtimeMs: entry.mtimeMs, reason };
    this.#save();
  }

  #save(): void {
    if (!this.#file) return;
    try {
      writeFileSync(this.#file, `${JSON.stringify(this.#records, null, 2)}\n`);
    } catch {
      // read-only models directory: memory only
    }
  }
}
