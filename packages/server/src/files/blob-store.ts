import type { Readable } from "node:stream";

/** Bytes streamed into the store and hashed, not yet visible under their hash. */
export interface StagedBlob {
  /** sha256 of the bytes, lowercase hex. */
  readonly hash: string;
  readonly size: number;
  /** Makes the bytes readable under their hash (atomically; storing the same bytes twice is harmless). */
  commit(): Promise<void>;
  /** Removes the staged bytes. */
  discard(): Promise<void>;
}

/**
 * Where file bytes live, by sha256. The metadata (owners, references, quota) is in the Store; this
 * interface only moves bytes, so a store shared by several replicas (a network directory, S3) can
 * replace the local directory without touching the routes.
 */
export interface BlobStore {
  /**
   * Streams `source` to a staging area, hashing as it goes. Past `maxBytes` it stops reading, removes
   * what it wrote and rejects with `tooLarge()`; on any stream error the staged bytes are removed too.
   */
  stage(source: Readable, maxBytes: number, tooLarge: () => Error): Promise<StagedBlob>;
  /** The committed blob's size, or undefined when absent. */
  size(hash: string): Promise<number | undefined>;
  /** A stream of the blob's bytes, `start` to `end` inclusive (default: all of it). */
  read(hash: string, range?: { start: number; end: number }): Readable;
  /**
   * Removes a blob's bytes after the metadata forgot it (GC), unless `stillWanted()` says a re-upload
   * brought it back meanwhile. Returns whether the bytes were removed.
   */
  remove(hash: string, stillWanted: () => Promise<boolean>): Promise<boolean>;
  /** Removes staged bytes older than `before` (ms since the epoch): uploads a crash left behind. */
  removeStaleStaging(before: number): Promise<number>;
}
