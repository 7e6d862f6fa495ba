import type { Readable } from "node:stream";
import { type FileRef, GantryError, type UploadFileResponse } from "@gantry/protocol";
import type { Store } from "../store/store.ts";
import type { BlobStore, StagedBlob } from "./blob-store.ts";

export interface FileLimits {
  maxFileBytes: number;
  quotaBytes: number;
}

/** A staged upload with the name it came under. */
export interface NamedStage {
  name: string;
  staged: StagedBlob;
}

const tooLarge = (max: number) => () =>
  new GantryError("file_too_large", `The file is larger than the server's maximum of ${max} bytes.`, {
    maxFileBytes: max,
  });

/**
 * Uploads and references: streams bytes into the BlobStore, then records ownership in the Store
 * (quota decided there, in one transaction), then makes the bytes visible. Order matters for GC:
 * the blob is recorded before its bytes are renamed into place (see LocalBlobStore.remove).
 */
export class FileService {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly limits: FileLimits;

  constructor(store: Store, blobs: BlobStore, limits: FileLimits) {
    this.store = store;
    this.blobs = blobs;
    this.limits = limits;
  }

  /**
   * Refuses before reading a byte when the declared length can never fit: over the maximum file size,
   * or over the whole quota. The quota proper is decided once the hash is known (own()), because a
   * file the owner already holds costs nothing: re-sending it at a full quota must still succeed.
   */
  precheck(declared: number | undefined, quota = true): void {
    if (declared === undefined) return;
    if (declared > this.limits.maxFileBytes) throw tooLarge(this.limits.maxFileBytes)();
    if (quota && declared > this.limits.quotaBytes) throw this.#quota(0);
  }

  async stage(source: Readable): Promise<StagedBlob> {
    try {
      return await this.blobs.stage(source, this.limits.maxFileBytes, tooLarge(this.limits.maxFileBytes));
    } catch (err) {
      // The client went away mid-body: a 400 (nobody reads it), not a 500 logged as a server fault.
      const code = (err as { code?: string }).code;
      if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE")
        throw new GantryError("validation_failed", "The upload ended before the whole body arrived; send it again.");
      throw err;
    }
  }

  /** Records the owner's staged files (all or none, within the quota) and commits their bytes. */
  async own(owner: string, stages: NamedStage[]): Promise<UploadFileResponse[]> {
    const files = stages.map((s) => ({ hash: s.staged.hash, size: s.staged.size, name: s.name }));
    const outcome = await this.store.addOwnedFiles(owner, files, this.limits.quotaBytes, Date.now());
    if (outcome.kind === "quota") {
      await discardAll(stages);
      throw this.#quota(outcome.usage);
    }
    for (const s of stages) await s.staged.commit();
    return files;
  }

  /** `POST /v1/files`: one body, streamed. */
  async upload(owner: string, name: string, source: Readable, declared?: number): Promise<UploadFileResponse> {
    this.precheck(declared);
    const staged = await this.stage(source);
    const [file] = await this.own(owner, [{ name, staged }]);
    return file!;
  }

  /**
   * Checks that the owner holds every input (marking them referenced, so GC keeps them) and fills in
   * their sizes. Unknown or foreign hashes are one file_not_found listing them.
   */
  async resolveInputs(owner: string, inputs: FileRef[]): Promise<FileRef[]> {
    if (inputs.length === 0) return inputs;
    const names = new Set<string>();
    for (const f of inputs) {
      if (names.has(f.name))
        throw new GantryError("validation_failed", `Two inputs are named "${f.name}"; input names must be unique.`);
      names.add(f.name);
    }
    const owned = await this.store.claimOwnedFiles(
      owner,
      inputs.map((f) => f.hash),
      Date.now(),
    );
    const missing = inputs.filter((f) => !owned.has(f.hash)).map((f) => f.hash);
    if (missing.length > 0) {
      throw new GantryError("file_not_found", "Upload each input with POST /v1/files before naming it in a job.", {
        missing,
      });
    }
    return inputs.map((f) => ({ name: f.name, hash: f.hash, size: owned.get(f.hash)!.size }));
  }

  #quota(usage: number): GantryError {
    return new GantryError("file_quota_exceeded", undefined, { usageBytes: usage, quotaBytes: this.limits.quotaBytes });
  }
}

export async function discardAll(stages: NamedStage[]): Promise<void> {
  await Promise.all(stages.map((s) => s.staged.discard()));
}
