import type { AssignedJob } from "@gantry/protocol";
import type { NewJobMessage } from "../outbox/outbox.ts";
import type { JobOutcome } from "../runner/job-runner.ts";

/**
 * The final message for one attempt, or null when there is nothing to say: a stale or dropped job
 * is no longer this agent's, so any message about it would be refused.
 */
export function outcomeMessage(job: AssignedJob, outcome: JobOutcome): NewJobMessage | null {
  const base = { jobId: job.id, epoch: job.epoch };
  switch (outcome.kind) {
    case "completed":
      return { type: "job:completed", ...base, output: outcome.output };
    case "failed":
      return { type: "job:failed", ...base, error: outcome.error };
    case "aborted":
      switch (outcome.reason) {
        case "cancel":
          return { type: "job:cancelled", ...base };
        case "timeout":
          return {
            type: "job:failed",
            ...base,
            error: { category: "timeout", message: `runtime limit of ${job.runtimeSecs}s exceeded` },
          };
        case "shutdown":
          return {
            type: "job:failed",
            ...base,
            error: { category: "transient", message: "the agent stopped before the job finished" },
          };
        case "stale":
        case "dropped":
          return null;
      }
  }
}
