import type { JobError, JobProgress } from "@gantry/protocol";
import type { ExecutorJob, ExecutorSettings } from "./executor.ts";
import type { AbortReason } from "./worker-messages.ts";

/** From the executor thread to an executor child process (internal IPC, not wire). */
export type ToChild =
  | {
      t: "run";
      module: string;
      job: ExecutorJob;
      settings: ExecutorSettings;
      inputPaths: Record<string, string>;
      outputDir: string;
      workDir: string;
    }
  | { t: "abort"; reason: AbortReason };

/** From an executor child process back to its thread. `done` carries the output as JSON text, already checked. */
export type FromChild =
  | { t: "logs"; lines: Array<["stdout" | "stderr", string]> }
  | { t: "progress"; p: JobProgress }
  | { t: "done"; ok: true; json: string }
  | { t: "done"; ok: false; error: JobError };
