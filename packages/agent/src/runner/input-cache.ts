import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * A bounded local cache of input files by sha256, so the same model or dataset is fetched once for
 * many jobs. Files enter only after their hash was checked (`admit`); the oldest-used go first when
 * the total passes `maxBytes`. Jobs get copies (a reflink where the filesystem can), never the
 * cached file itself, so a job that writes to its input cannot spoil the cache.
 */
export class InputCache {
  readonly dir: string;
  readonly maxBytes: number;

  constructor(dir: string, maxBytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Partial downloads a crash left behind.
    for (const f of fs.readdirSync(dir)) if (f.startsWith(".tmp-")) fs.rmSync(path.join(dir, f), { force: true });
  }

  /** A fresh temporary path in the cache's directory (same filesystem: `admit` is a rename). */
  tempPath(): string {
    return path.join(this.dir, `.tmp-${randomUUID()}`);
  }

  /** Copies a cached file to `dest` and returns true, or false when it is not cached (or not the expected size). */
  async copyTo(hash: string, dest: string, size?: number): Promise<boolean> {
    const file = path.join(this.dir, hash);
    try {
      const st = await fs.promises.stat(file);
      if (size !== undefined && st.size !== size) return false;
      await fs.promises.copyFile(file, dest, fs.constants.COPYFILE_FICLONE);
      const now = new Date();
      await fs.promises.utimes(file, now, now).catch(() => {}); // most recently used
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Moves a verified download (`tempPath()`) into the cache and copies it to `dest`; a file bigger
   * than the whole cache goes straight to `dest` instead.
   */
  async admit(tmp: string, hash: string, size: number, dest: string): Promise<void> {
    if (size > this.maxBytes) {
      await fs.promises.rename(tmp, dest);
      return;
    }
    const file = path.join(this.dir, hash);
    await fs.promises.rename(tmp, file);
    await fs.promises.copyFile(file, dest, fs.constants.COPYFILE_FICLONE);
    await this.trim();
  }

  /** Removes the least recently used files until the cache fits. */
  async trim(): Promise<void> {
    const entries: Array<{ file: string; size: number; used: number }> = [];
    for (const name of await fs.promises.readdir(this.dir)) {
      if (name.startsWith(".tmp-")) continue;
      const file = path.join(this.dir, name);
      const st = await fs.promises.stat(file).catch(() => undefined);
      if (st?.isFile()) entries.push({ file, size: st.size, used: st.mtimeMs });
    }
    let total = entries.reduce((n, e) => n + e.size, 0);
    entries.sort((a, b) => a.used - b.used);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      await fs.promises.rm(e.file, { force: true });
      total -= e.size;
    }
  }
}
