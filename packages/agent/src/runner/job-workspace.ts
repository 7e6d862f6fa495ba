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
 * Per-attempt directories under `<data>/jobs/<jobId>-<epoch>/` (`work/`, `out/`, `in/`): made when
 * first used and removed when the attempt ends, whatever happened. Leftovers of a crashed agent go
 * at the next start.
 */
export class JobWorkspace {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  dirOf(job: Pick<AssignedJob, "id" | "epoch">): string {
    return path.join(this.root, `${job.id}-${job.epoch}`);
  }

  /** Where an attempt's input files go (made when they are fetched). */
  inputDir(job: Pick<AssignedJob, "id" | "epoch">): string {
    return path.join(this.dirOf(job), "in");
  }

  /**
   * The attempt's directory paths. Nothing is made here, on the control loop: the executor's thread
   * makes a directory when the executor first asks for it (see lazyDirs), so the thousands of tiny
   * jobs a benchmark runs cost no filesystem work at all.
   */
  prepare(job: Pick<AssignedJob, "id" | "epoch">): JobDirs {
    const dir = this.dirOf(job);
    return { workDir: path.join(dir, "work"), outputDir: path.join(dir, "out"), inputPaths: {} };
  }

  /**
   * Removes an attempt's directories (in the background: a big tree must not stall the loop).
   * `made: false` says none was made (the executor's thread reports it): no filesystem call at all.
   */
  release(job: Pick<AssignedJob, "id" | "epoch">, made?: boolean): Promise<void> {
    if (made === false) return Promise.resolve();
    const dir = this.dirOf(job);
    // Most jobs never made one: a stat here is far cheaper than an rm through the thread pool (bench/).
    if (!fs.existsSync(dir)) return Promise.resolve();
    // Retries: a killed process group may still be exiting while the tree goes.
    return fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 5 }).catch(() => {});
  }

  /** At start: nothing runs yet, so anything here is left from a previous run. */
  clear(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** `workDir` and `outputDir` as getters that make the directory on first use; `made`: whether either was. */
export function lazyDirs(dirs: { workDir: string; outputDir: string }): {
  workDir: string;
  outputDir: string;
  made: boolean;
} {
  const made = new Set<string>();
  const make = (p: string) => {
    if (!made.has(p)) fs.mkdirSync(p, { recursive: true, mode: 0o700 });
    made.add(p);
    return p;
  };
  return {
    get workDir() {
      return make(dirs.workDir);
    },
    get outputDir() {
      return make(dirs.outputDir);
    },
    get made() {
      return made.size > 0;
    },
  };
}
