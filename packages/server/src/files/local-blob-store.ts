import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BlobStore, StagedBlob } from "./blob-store.ts";

/** Write buffer for staged files: 1 MiB chunks keep syscalls few at ≥500 MB/s. */
const WRITE_CHUNK = 1024 * 1024;

/**
 * Blobs in a local directory: `<root>/ab/cd/<hash>` (two fan-out levels keep directories small), staged
 * in `<root>/tmp/` on the same filesystem so that commit is one atomic rename. Staged files are
 * fsynced before they are renamed, so an answered upload survives a crash.
 */
export class LocalBlobStore implements BlobStore {
  readonly #root: string;
  readonly #tmp: string;

  constructor(root: string) {
    this.#root = root;
    this.#tmp = join(root, "tmp");
  }

  async init(): Promise<void> {
    await mkdir(this.#tmp, { recursive: true, mode: 0o700 });
  }

  pathOf(hash: string): string {
    return join(this.#root, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  async stage(source: Readable, maxBytes: number, tooLarge: () => Error): Promise<StagedBlob> {
    const tmp = join(this.#tmp, `up-${randomUUID()}`);
    const hasher = createHash("sha256");
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(tooLarge());
        hasher.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp, { flags: "wx", highWaterMark: WRITE_CHUNK, flush: true }));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const hash = hasher.digest("hex");
    const final = this.pathOf(hash);
    return {
      hash,
      size,
      commit: async () => {
        await mkdir(join(final, ".."), { recursive: true });
        await rename(tmp, final);
      },
      discard: () => rm(tmp, { force: true }),
    };
  }

  async size(hash: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(hash))).size;
    } catch {
      return undefined;
    }
  }

  read(hash: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(hash), { ...range, highWaterMark: WRITE_CHUNK });
  }

  async remove(hash: string, stillWanted: () => Promise<boolean>): Promise<boolean> {
    // Move aside first, then ask: an upload records the blob before it renames its bytes into place,
    // so if it is recorded now, these may be the bytes it relies on and they go back.
    const aside = join(this.#tmp, `gc-${randomUUID()}`);
    try {
      await rename(this.pathOf(hash), aside);
    } catch {
      return false;
    }
    if (await stillWanted()) {
      await rename(aside, this.pathOf(hash)).catch(() => rm(aside, { force: true }));
      return false;
    }
    await rm(aside, { force: true });
    return true;
  }

  async removeStaleStaging(before: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.#tmp)) {
      const path = join(this.#tmp, name);
      const s = await stat(path).catch(() => undefined);
      if (s && s.mtimeMs < before) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
