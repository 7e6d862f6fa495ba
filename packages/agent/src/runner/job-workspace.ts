import fs from "node:fs";
import path from "node:path";
import type { AssignedJob } from "@gantry/protocol";

/** One attempt's directories. */
export interface JobDirs {
  /** Scratch space and the default working directory of commands. */
  workDir: string;
  /** Files left here become the job's output files. */
  outputDir: string;
  /** Input name → local path. */
  inputPaths: Record<string, string>;
}

/**
 * Per-attempt directories under `<data>/jobs/<jobId>-<epoch>/`: made before the executor runs and
 * removed when the attempt ends, whatever happened. Leftovers of a crashed agent go at the next start.
 */
export class JobWorkspace {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  dirOf(job: Pick<AssignedJob, "id" | "epoch">): string {
    return path.join(this.root, `${job.id}-${job.epoch}`);
  }

  prepare(job: Pick<AssignedJob, "id" | "epoch">): JobDirs {
    const dir = this.dirOf(job);
    fs.rmSync(dir, { recursive: true, force: true });
    const workDir = path.join(dir, "work");
    const outputDir = path.join(dir, "out");
    fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(outputDir, { recursive: true, mode: 0o700 });
    return { workDir, outputDir, inputPaths: {} };
  }

  /** Removes an attempt's directories (in the background: a big tree must not stall the loop). */
  release(job: Pick<AssignedJob, "id" | "epoch">): Promise<void> {
    // Retries: a killed process group may still be exiting while the tree goes.
    return fs.promises.rm(this.dirOf(job), { recursive: true, force: true, maxRetries: 5 }).catch(() => {});
  }

  /** At start: nothing runs yet, so anything here is left from a previous run. */
  clear(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
