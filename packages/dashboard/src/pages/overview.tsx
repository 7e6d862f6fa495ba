import type { Job } from "@gantry/protocol";
import { useMemo } from "preact/hooks";
import { Chart, type Series } from "../components/chart.tsx";
import { duration, shortId, since } from "../format.ts";
import type { FleetState } from "../state/fleet.ts";
import type { JobsState } from "../state/jobs.ts";
import { statsOf } from "../state/jobs.ts";
import { type Store, useNow, useStore } from "../state/store.ts";

/** The charts cover this many minutes, one point per minute. */
const WINDOW_MIN = 30;
const THROUGHPUT: Series[] = [
  { label: "completed", color: "#2f9e44", bars: true },
  { label: "failed", color: "#e03131", bars: true },
];
const LATENCY: Series[] = [
  { label: "queue wait", color: "#1c7ed6" },
  { label: "run time", color: "#f08c00" },
];

function perMinute(jobs: readonly Job[], now: number) {
  const end = Math.floor(now / 60_000);
  const xs = Array.from({ length: WINDOW_MIN }, (_, i) => (end - WINDOW_MIN + 1 + i) * 60);
  const done = new Array<number>(WINDOW_MIN).fill(0);
  const failed = new Array<number>(WINDOW_MIN).fill(0);
  const wait: number[][] = xs.map(() => []);
  const run: number[][] = xs.map(() => []);
  for (const j of jobs) {
    if (!j.endedAt) continue;
    const i = Math.floor(Date.parse(j.endedAt) / 60_000) - (end - WINDOW_MIN + 1);
    if (i < 0 || i >= WINDOW_MIN) continue;
    if (j.status === "completed") done[i]!++;
    if (j.status === "failed") failed[i]!++;
    if (j.status === "completed" && j.startedAt) {
      wait[i]!.push((Date.parse(j.startedAt) - Date.parse(j.createdAt)) / 1000);
      run[i]!.push((Date.parse(j.endedAt) - Date.parse(j.startedAt)) / 1000);
    }
  }
  const median = (v: number[]) => (v.length ? [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]! : null);
  // Empty minutes draw no bar at all (a zero-height bar reads as a dashed line).
  const bar = (v: number[]) => v.map((n) => (n === 0 ? null : n));
  return { xs, done: bar(done), failed: bar(failed), wait: wait.map(median), run: run.map(median) };
}

export function OverviewPage(props: { jobs: Store<JobsState>; fleet: Store<FleetState> }) {
  const jobs = useStore(props.jobs);
  const fleet = useStore(props.fleet);
  const now = useNow(10_000);
  const stats = jobs.stats ?? statsOf(jobs.jobs);
  const m = useMemo(() => perMinute(jobs.jobs, now), [jobs.jobs, Math.floor(now / 60_000)]);
  const completed = stats.byStatus.completed ?? 0;
  const failed = stats.byStatus.failed ?? 0;
  const failureRate = completed + failed > 0 ? failed / (completed + failed) : null;
  const oldestQueued = stats.oldestQueuedAt;
  const oldestJob = jobs.jobs.filter((j) => j.status === "queued").at(-1);
  const queue = [...fleet.capabilities].sort((a, b) => b.queued - a.queued || a.name.localeCompare(b.name));
  const models = fleet.capabilities.filter((c) => c.name.startsWith("llm.") && c.agents > 0);
  const doneTotal = m.done.reduce<number>((a, b) => a + (b ?? 0), 0);

  return (
    <section aria-labelledby="overview-h">
      <h1 id="overview-h">Overview</h1>
      <div class="tiles">
        <div class="tile">
          <div class="tile-label">Queued</div>
          <div class="tile-value" data-testid="queued-count">
            {stats.byStatus.queued ?? 0}
          </div>
        </div>
        <div class="tile">
          <div class="tile-label">Running</div>
          <div class="tile-value">{(stats.byStatus.running ?? 0) + (stats.byStatus.assigned ?? 0)}</div>
        </div>
        <div class="tile">
          <div class="tile-label">Oldest queued</div>
          <div class="tile-value">
            {oldestQueued ? (
              oldestJob ? (
                <a href={`#/jobs/${oldestJob.id}`}>{since(oldestQueued, now)}</a>
              ) : (
                since(oldestQueued, now)
              )
            ) : (
              "none"
            )}
          </div>
        </div>
        <div class="tile">
          <div class="tile-label">Failure rate</div>
          <div class="tile-value">{failureRate === null ? "–" : `${(failureRate * 100).toFixed(1)}%`}</div>
          <div class="tile-sub muted">
            {failed} failed of {completed + failed}
            {stats.exact ? "" : " recent"}
          </div>
        </div>
        <div class="tile">
          <div class="tile-label">Agents online</div>
          <div class="tile-value">
            {fleet.agents.filter((a) => a.online).length}/{fleet.agents.length}
          </div>
        </div>
      </div>
      <div class="charts">
        <Chart
          title={`Throughput, jobs per minute (last ${WINDOW_MIN} min)`}
          summary={`${doneTotal} jobs completed in the last ${WINDOW_MIN} minutes.`}
          series={THROUGHPUT}
          data={[m.xs, m.done, m.failed]}
          unit=""
        />
        <Chart
          title="Latency, median per minute"
          summary="Median queue wait and run time of the jobs completed each minute."
          series={LATENCY}
          data={[m.xs, m.wait, m.run]}
          unit="s"
        />
      </div>
      <div class="two">
        <section aria-labelledby="queue-h">
          <h2 id="queue-h">Queue by capability</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Capability</th>
                  <th scope="col">Queued</th>
                  <th scope="col">Agents</th>
                  <th scope="col">Free slots</th>
                </tr>
              </thead>
              <tbody>
                {queue.map((c) => (
                  <tr key={c.name}>
                    <td>
                      <code>{c.name}</code>
                    </td>
                    <td>
                      <span class="qbar" style={{ width: `${Math.min(100, c.queued * 4)}px` }} /> {c.queued}
                    </td>
                    <td>{c.agents}</td>
                    <td>{c.freeSlots}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {queue.length === 0 ? <p class="muted">No capability is online or queued.</p> : null}
        </section>
        <section aria-labelledby="models-h">
          <h2 id="models-h">Models online</h2>
          {models.length === 0 ? <p class="muted">No llm.* capability is online.</p> : null}
          <ul class="plain">
            {models.map((c) => {
              const where = fleet.agents.filter(
                (a) => a.online && a.capabilities.some((x) => x.split("[")[0] === c.name),
              );
              return (
                <li key={c.name}>
                  <code>{c.name}</code> on{" "}
                  {where.map((a) => a.displayName ?? a.name ?? shortId(a.id)).join(", ") || `${c.agents} agents`}
                  <span class="muted">
                    {" "}
                    · {c.freeSlots} free · {c.queued} queued
                  </span>
                </li>
              );
            })}
          </ul>
          <h2>Recent failures</h2>
          {jobs.jobs.some((j) => j.status === "failed") ? null : <p class="muted">None among the recent jobs.</p>}
          <ul class="plain">
            {jobs.jobs
              .filter((j) => j.status === "failed")
              .slice(0, 5)
              .map((j) => (
                <li key={j.id}>
                  <a href={`#/jobs/${j.id}`}>{shortId(j.id)}</a> <code>{j.capability}</code>{" "}
                  <span class="muted">
                    {j.error?.category}: {j.error?.message.slice(0, 80)} · {since(j.endedAt, now)} ago · ran{" "}
                    {duration(Date.parse(j.endedAt ?? "") - Date.parse(j.startedAt ?? ""))}
                  </span>
                </li>
              ))}
          </ul>
        </section>
      </div>
    </section>
  );
}
