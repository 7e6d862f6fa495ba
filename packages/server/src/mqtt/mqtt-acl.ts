import { jobIdOfTopic, mqttTopics } from "@gantry/protocol";
import { hasScope, type Principal } from "../auth/principals.ts";
import type { Store } from "../store/store.ts";

/**
 * Whether a principal may subscribe to a topic filter. Job topics: the job's owner, or admin;
 * wildcards over jobs: admin only. Agent presence needs agents:read, the capability summary
 * jobs:read. Everything else is refused (the broker answers SUBACK 0x80).
 */
export async function maySubscribe(store: Store, principal: Principal, filter: string): Promise<boolean> {
  if (hasScope(principal, "admin")) return filter.startsWith("gantry/") || filter === "#";
  if (filter === mqttTopics.capabilities) return hasScope(principal, "jobs:read");
  if (/^gantry\/agents\/([^/#]+|\+|#)$/.test(filter)) return hasScope(principal, "agents:read");
  const jobId = jobIdOfTopic(filter);
  if (jobId === undefined || !hasScope(principal, "jobs:read")) return false;
  await store.barrier();
  const job = await store.getJob(jobId);
  return job !== undefined && job.owner === principal.owner;
}
