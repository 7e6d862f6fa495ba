import type { Job } from "@gantry/protocol";
import { useMemo, useState } from "preact/hooks";
import { ErrorNote, ProgressBar, StatusBadge } from "../components/bits.tsx";
import { duration, shortId, since } from "../format.ts";
import { type JobsState, STATUSES } from "../state/jobs.ts";
import { type Store, useNow, useStore } from "../state/store.ts";

const base = (capability: string) => capability.split("[")[0]!;

export function JobsPage(props: { jobs: Store<JobsState> }) {
  const state = useStore(props.jobs);
  const now = useNow();
  const [status, setStatus] = useState("");
  const [capability, setCapability] = useState("");
  const [agent, setAgent] = useState("");
  const [search, setSearch] = useState("");
  const capabilities = useMemo(() => [...new Set(state.jobs.map((j) => base(j.capability)))].sort(), [state.jobs]);
  const agents = useMemo(
    () =>
      [
        ...new Set(
          state.jobs.flatMap((j) => [j.agentId, ...j.attempts.map((a) => a.agentId)]).filter((a): a is string => !!a),
        ),
      ].sort(),
    [state.jobs],
  );
  const q = search.trim().toLowerCase();
  const rows = state.jobs.filter(
    (j) =>
      (!status || j.status === status) &&
      (!capability || base(j.capability) === capability) &&
      (!agent || j.agentId === agent || j.attempts.some((a) => a.agentId === agent)) &&
      (!q ||
        j.id.toLowerCase().includes(q) ||
        j.capability.toLowerCase().includes(q) ||
        JSON.stringify(j.payload ?? "")
          .toLowerCase()
          .includes(q)),
  );

  return (
    <section aria-labelledby="jobs-h">
      <h1 id="jobs-h">Jobs</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter jobs">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)} name="status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Capability
          <select value={capability} onChange={(e) => setCapability(e.currentTarget.value)} name="capability">
            <option value="">any</option>
            {capabilities.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent
          <select value={agent} onChange={(e) => setAgent(e.currentTarget.value)} name="agent">
            <option value="">any</option>
            {agents.map((a) => (
              <option key={a} value={a}>
                {shortId(a)}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          Search
          <input
            type="search"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
            placeholder="id, capability or payload"
            name="search"
          />
        </label>
      </form>
      <ErrorNote error={state.error} />
      <p class="muted" aria-live="polite">
        {rows.length} of {state.jobs.length} recent jobs
      </p>
      <div class="table-wrap">
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Status</th>
              <th scope="col">Capability</th>
              <th scope="col">Agent</th>
              <th scope="col">Progress</th>
              <th scope="col">Age</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((j) => (
              <JobRow key={j.id} job={j} now={now} />
            ))}
          </tbody>
        </table>
      </div>
      {state.loaded && rows.length === 0 ? <p>No jobs match.</p> : null}
    </section>
  );
}

function JobRow(props: { job: Job; now: number }) {
  const { job: j, now } = props;
  const ran = j.startedAt ? (j.endedAt ? Date.parse(j.endedAt) : now) - Date.parse(j.startedAt) : Number.NaN;
  return (
    <tr data-job-id={j.id} data-status={j.status}>
      <td>
        <a href={`#/jobs/${j.id}`} class="mono">
          {shortId(j.id)}
        </a>
      </td>
      <td>
        <StatusBadge status={j.status} />
      </td>
      <td>
        <code>{j.capability}</code>
      </td>
      <td class="mono">{j.agentId ? shortId(j.agentId) : "–"}</td>
      <td>
        <ProgressBar progress={j.progress} status={j.status} label={`Progress of job ${j.id}`} />
      </td>
      <td>{since(j.createdAt, now)}</td>
      <td>{duration(ran)}</td>
    </tr>
  );
}
