import { GantryError, isTerminal, type JobEvent, type LlmOutput, type SubmitJobRequest } from "@gantry/protocol";
import { assertMaySubmit } from "../auth/job-access.ts";
import type { Principal } from "../auth/principals.ts";
import type { GantryContext } from "../context.ts";
import type { JobRecord } from "../store/store.ts";
import { onlineModels } from "./online-models.ts";

/** A request no agent picks up within this long fails (the model's agents left, or all are busy). */
const MAX_WAIT_SECS = 300;

type Ctx = Pick<GantryContext, "lifecycle" | "events" | "store" | "registry" | "replicaId" | "options">;

/** `tiny-a` or `llm.tiny-a` → `llm.tiny-a`, refused when no online agent offers it. */
export async function capabilityFor(ctx: Ctx, principal: Principal, model: string): Promise<string> {
  const name = model.toLowerCase().replace(/^llm\./, "");
  const capability = `llm.${name}`;
  assertMaySubmit(principal, capability);
  if (!(await onlineModels(ctx)).has(name)) {
    throw new GantryError(
      "model_not_found",
      `The model '${model}' is not offered by any agent online; GET /v1/models lists those that are.`,
    );
  }
  return capability;
}

export interface RunningJobs {
  jobs: JobRecord[];
  /** Resolves with each job once terminal, in order. */
  done: Promise<JobRecord[]>;
  /** Cancels the jobs that are not terminal yet (the client went away). */
  cancel(): void;
}

/**
 * Submits `llm.*` jobs as an ordinary client would (visible, cancellable, retried), follows them on
 * the job event stream (which carries events from every replica) and resolves when all have ended.
 * `onTokens` gets each job's `tokens` events in order.
 */
export async function runLlmJobs(
  ctx: Ctx,
  principal: Principal,
  requests: SubmitJobRequest[],
  onTokens?: (e: Extract<JobEvent, { type: "tokens" }>) => void,
): Promise<RunningJobs> {
  const outcomes = await ctx.lifecycle.submit(
    principal.owner,
    requests.map((r) => ({ maxWaitSecs: MAX_WAIT_SECS, ...r })),
  );
  const jobs = outcomes.map((o) => o.job);
  const ended = new Set<string>();
  const offs: (() => void)[] = [];
  const done = Promise.all(
    jobs.map(
      (job) =>
        new Promise<JobRecord>((resolve, reject) => {
          let settled = false;
          const check = async () => {
            await ctx.store.barrier();
            const now = await ctx.store.getJob(job.id);
            if (!now || settled || !isTerminal(now.status)) return;
            settled = true;
            ended.add(job.id);
            off();
            resolve(now);
          };
          const off = ctx.events.subscribe(job.id, (e) => {
            if (e.type === "tokens") onTokens?.(e);
            else if (e.type === "status" && isTerminal(e.status)) check().catch(reject);
          });
          offs.push(off);
          // It may have ended before the subscription (a fast agent, another replica).
          check().catch(reject);
        }),
    ),
  );
  return {
    jobs,
    done,
    cancel: () => {
      for (const off of offs) off();
      for (const job of jobs) {
        if (ended.has(job.id)) continue;
        void ctx.store
          .getJob(job.id)
          .then(async (j) => {
            if (j && !isTerminal(j.status)) await ctx.lifecycle.cancel(j);
          })
          .catch(() => {}); // ended meanwhile: nothing to cancel
      }
    },
  };
}

/** A job that ended without completing, as the request's error. */
export function failedJobError(job: JobRecord): GantryError {
  const why = job.error ? `${job.error.category}: ${job.error.message}` : job.status;
  return new GantryError("llm_job_failed", `Job ${job.id} ${job.status} (${why}).`.slice(0, 2000), {
    jobId: job.id,
    status: job.status,
  });
}

/** A completed llm job's output (as the agent returned it). */
export function outputOf(job: JobRecord): LlmOutput {
  return job.output as LlmOutput;
}
