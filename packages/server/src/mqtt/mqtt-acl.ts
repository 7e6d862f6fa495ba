import { jobIdOfTopic, mqttTopics } from "@gantry/protocol";
import { canSeeJob } from "../auth/job-access.ts";
import { hasScope, isAdmin, type Principal } from "../auth/principals.ts";
import type { Store } from "../store/store.ts";

/**
 * Whether a principal may subscribe to a topic filter. A job topic: whoever may see the job over
 * HTTP (`canSeeJob`: its owner or an admin, within the credential's capability patterns) with
 * jobs:read. Wildcards over jobs: admins whose credential has no capability patterns (a key limited
 * to `llm.*` must not see other jobs through a wildcard). Agent presence needs agents:read, the
 * capability summary jobs:read. Everything else is refused (the broker answers SUBACK 0x80).
 */
export async function maySubscribe(store: Store, principal: Principal, filter: string): Promise<boolean> {
  if (filter === mqttTopics.capabilities) return hasScope(principal, "jobs:read");
  if (/^gantry\/agents\/([^/#]+|\+|#)$/.test(filter)) return hasScope(principal, "agents:read");
  const jobId = jobIdOfTopic(filter);
  if (jobId === undefined) {
    return isAdmin(principal) && principal.capabilities === null && (filter.startsWith("gantry/") || filter === "#");
  }
  if (!hasScope(principal, "jobs:read")) return false;
  await store.barrier();
  const job = await store.getJob(jobId);
  return job !== undefined && canSeeJob(principal, job);
}
