import type { JobStatus } from "@gantry/protocol";
import type { JobFilter, JobRecord } from "./store.ts";

/**
 * A list filtered by several statuses, as one list per status merged: each per-status list walks
 * its index in id order and stops after `limit` rows, so a page costs O(statuses × limit) however
 * many jobs there are. One `status IN (…) ORDER BY id` would have to sort every matching row.
 */
export async function listByStatuses(
  f: JobFilter,
  listOne: (f: JobFilter) => Promise<JobRecord[]>,
): Promise<JobRecord[]> {
  const statuses = f.statuses === null ? null : [...new Set<JobStatus>(f.statuses)];
  if (statuses === null || statuses.length <= 1) return listOne({ ...f, statuses });
  const lists = await Promise.all(statuses.map((s) => listOne({ ...f, statuses: [s] })));
  return lists
    .flat()
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, f.limit);
}
