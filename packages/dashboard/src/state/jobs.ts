import { isTerminal, type Job, type JobStatus } from "@gantry/protocol";
import { z } from "zod";
import type { Live, LiveJobEvent } from "./live.ts";
import type { Session } from "./session.ts";
import { Store } from "./store.ts";

/** How many recent jobs the table and the charts are drawn from. */
export const RECENT_JOBS = 500;

/** `GET /v1/jobs/stats` (absent on older servers: the dashboard then counts the jobs it has). */
const JobStats = z.object({
  total: z.number(),
  byStatus: z.record(z.string(), z.number()),
  byCapability: z.record(z.string(), z.record(z.string(), z.number())),
  oldestQueuedAt: z.string().nullable(),
});
export type JobStats = z.infer<typeof JobStats> & { exact: boolean };

export interface JobsState {
  /** Newest first. */
  jobs: Job[];
  stats: JobStats | null;
  loaded: boolean;
  error: string | null;
}

/** Counts from the jobs at hand, when the server has no stats route. */
export function statsOf(jobs: readonly Job[]): JobStats {
  const byStatus: Record<string, number> = {};
  const byCapability: Record<string, Record<string, number>> = {};
  let oldest: string | null = null;
  for (const j of jobs) {
    byStatus[j.status] = (byStatus[j.status] ?? 0) + 1;
    const base = j.capability.split("[")[0]!;
    const c = byCapability[base] ?? {};
    byCapability[base] = c;
    c[j.status] = (c[j.status] ?? 0) + 1;
    if (j.status === "queued" && (oldest === null || j.createdAt < oldest)) oldest = j.createdAt;
  }
  return { total: jobs.length, byStatus, byCapability, oldestQueuedAt: oldest, exact: false };
}

/**
 * Recent jobs, kept current by job events: a progress event updates the row in place; a status
 * event, or an event for a job not yet listed, reads that one job again. Counts come from
 * `/v1/jobs/stats`, read again after status changes (at most once a second).
 */
export function jobsStore(session: Session, live: Live): { store: Store<JobsState>; reload(): Promise<void> } {
  const store = new Store<JobsState>({ jobs: [], stats: null, loaded: false, error: null });
  const update = (patch: Partial<JobsState>) => store.set({ ...store.value, ...patch });
  const watching = new Map<string, () => void>();
  let statsRoute = true;

  const follow = (jobs: readonly Job[]) => {
    if (session.me.isAdmin) return; // admins receive every job's events already
    for (const j of jobs) {
      if (!isTerminal(j.status) && !watching.has(j.id)) watching.set(j.id, live.watchJob(j.id));
      if (isTerminal(j.status)) {
        watching.get(j.id)?.();
        watching.delete(j.id);
      }
    }
  };

  let statsTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshStats = () => {
    if (statsTimer) return;
    statsTimer = setTimeout(async () => {
      statsTimer = undefined;
      if (statsRoute) {
        try {
          update({ stats: { ...(await session.api("GET", "/v1/jobs/stats", JobStats)), exact: true } });
          return;
        } catch (err) {
          // A server without the route answers 404, or 400 where `/v1/jobs/:id` takes "stats" for an id.
          const status = (err as { status?: number }).status;
          if (status === 404 || status === 400) statsRoute = false;
        }
      }
      update({ stats: statsOf(store.value.jobs) });
    }, 1000);
  };

  const put = (job: Job) => {
    const jobs = store.value.jobs;
    const i = jobs.findIndex((j) => j.id === job.id);
    const next = i === -1 ? [job, ...jobs].slice(0, RECENT_JOBS) : jobs.map((j, k) => (k === i ? job : j));
    next.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    update({ jobs: next });
    follow([job]);
  };

  const fetching = new Set<string>();
  const reread = (id: string) => {
    if (fetching.has(id)) return;
    fetching.add(id);
    session.client
      .get(id)
      .then(put, () => {})
      .finally(() => fetching.delete(id));
  };

  const onEvent = (e: LiveJobEvent) => {
    const known = store.value.jobs.find((j) => j.id === e.jobId);
    if (!known || e.type === "status" || e.type === "output") {
      reread(e.jobId);
      if (e.type === "status") refreshStats();
      return;
    }
    if (e.type === "progress")
      put({ ...known, progress: e.progress, status: known.status === "assigned" ? "running" : known.status });
  };
  live.onAnyJob(onEvent);

  const reload = async () => {
    try {
      const { jobs } = await session.client.list({ limit: RECENT_JOBS });
      update({ jobs, loaded: true, error: null });
      follow(jobs);
      refreshStats();
    } catch (err) {
      update({ loaded: true, error: (err as Error).message });
    }
  };
  void reload();
  return { store, reload };
}

export const STATUSES: readonly JobStatus[] = ["queued", "assigned", "running", "completed", "failed", "cancelled"];
