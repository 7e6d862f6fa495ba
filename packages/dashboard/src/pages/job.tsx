import { isTerminal, type Job, type LogLine } from "@gantry/protocol";
import { useEffect, useRef, useState } from "preact/hooks";
import { ErrorNote, ProgressBar, StatusBadge } from "../components/bits.tsx";
import { JobFiles } from "../components/job-files.tsx";
import { duration, json, since } from "../format.ts";
import type { Live } from "../state/live.ts";
import type { Session } from "../state/session.ts";
import { useNow } from "../state/store.ts";

/** Most log lines kept on the page (the newest); the full log stays on the server. */
const MAX_LINES = 5000;

export function JobPage(props: { id: string; session: Session; live: Live }) {
  const { id, session, live } = props;
  const client = session.client;
  const now = useNow();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [tokens, setTokens] = useState("");
  const [acting, setActing] = useState(false);
  const [filesVersion, setFilesVersion] = useState(0);
  const logBox = useRef<HTMLPreElement>(null);
  const follow = useRef(true);

  useEffect(() => {
    let gone = false;
    let after = 0;
    let reading: Promise<void> = Promise.resolve();
    let again = false;
    // Log events carry only the line number: read the lines after the last one shown, one read at a time.
    const readLogs = () => {
      if (again) return;
      again = true;
      reading = reading.then(async () => {
        again = false;
        for (;;) {
          const page = await client.logs(id, { after, limit: 1000 }).catch(() => null);
          if (gone || !page || page.lines.length === 0) return;
          after = page.nextAfter;
          setLines((old) => [...old, ...page.lines].slice(-MAX_LINES));
          if (page.lines.length < 1000) return;
        }
      });
    };
    const reread = () =>
      client.get(id).then(
        (j) => {
          if (gone) return;
          setJob(j);
          if (isTerminal(j.status)) setFilesVersion((v) => v + 1);
        },
        (err: Error) => !gone && setError(err.message),
      );
    setJob(null);
    setLines([]);
    setTokens("");
    setError(null);
    // Watch first, then read: nothing that happens in between is missed.
    const stop = live.watchJob(id, (e) => {
      if (e.type === "progress") setJob((j) => (j ? { ...j, progress: e.progress } : j));
      else if (e.type === "log") readLogs();
      else if (e.type === "tokens") setTokens((t) => t + e.text);
      else void reread();
    });
    void reread();
    readLogs();
    return () => {
      gone = true;
      stop();
    };
  }, [id]);

  useEffect(() => {
    const el = logBox.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const act = async (f: () => Promise<Job>) => {
    setActing(true);
    try {
      setJob(await f());
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setActing(false);
    }
  };

  if (!job)
    return (
      <section>
        <h1>Job {id}</h1>
        {error ? <ErrorNote error={error} /> : <p>Loading…</p>}
      </section>
    );
  const write = session.can("jobs:write");
  const ran = job.startedAt ? (job.endedAt ? Date.parse(job.endedAt) : now) - Date.parse(job.startedAt) : Number.NaN;
  const progressText = [job.progress?.stage, job.progress?.message].filter(Boolean).join(": ");
  return (
    <section aria-labelledby="job-h" class="job-page">
      <p>
        <a href="#/jobs">← Jobs</a>
      </p>
      <header class="job-head">
        <h1 id="job-h">
          <code>{job.capability}</code> <span class="mono muted small">{job.id}</span>
        </h1>
        <StatusBadge status={job.status} />
      </header>
      <div class="job-progress">
        <ProgressBar progress={job.progress} status={job.status} label="Job progress" />
        {progressText ? <span class="muted">{progressText}</span> : null}
      </div>
      <div class="actions">
        {write && !isTerminal(job.status) ? (
          <button
            type="button"
            class="danger"
            disabled={acting || job.cancelRequestedAt !== null}
            onClick={() => act(() => client.cancel(job.id))}
          >
            {job.cancelRequestedAt ? "Cancelling…" : "Cancel job"}
          </button>
        ) : null}
        {write && (job.status === "failed" || job.status === "cancelled") ? (
          <button type="button" disabled={acting} onClick={() => act(() => client.retry(job.id))}>
            Retry job
          </button>
        ) : null}
      </div>
      <ErrorNote error={error} />
      <dl class="facts wide">
        <dt>Created</dt>
        <dd>
          <time dateTime={job.createdAt}>{new Date(job.createdAt).toLocaleString()}</time> ({since(job.createdAt, now)}{" "}
          ago)
        </dd>
        <dt>Ran for</dt>
        <dd>{duration(ran)}</dd>
        <dt>Agent</dt>
        <dd class="mono">{job.agentId ?? "–"}</dd>
        <dt>Priority</dt>
        <dd>{job.priority}</dd>
        <dt>Owner</dt>
        <dd class="mono">{job.owner}</dd>
      </dl>
      {job.error ? (
        <p class="error" role="alert">
          {job.error.category}
          {job.error.code ? ` (${job.error.code})` : ""}: {job.error.message}
        </p>
      ) : null}
      <h2>Payload</h2>
      <pre class="code">{json(job.payload)}</pre>
      {tokens || job.capability.startsWith("llm.") ? (
        <>
          <h2>Generated text</h2>
          <pre class="code tokens" aria-live="polite">
            {tokens || progressText || "(waiting for tokens)"}
          </pre>
        </>
      ) : null}
      <h2 id="logs-h">Log</h2>
      <pre
        class="code log"
        role="log"
        ref={logBox}
        aria-labelledby="logs-h"
        onScroll={(e) => {
          const el = e.currentTarget;
          follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {lines.length === 0 ? (
          <span class="muted">{isTerminal(job.status) ? "(no log lines)" : "(no log lines yet)"}</span>
        ) : null}
        {lines.map((l) => (
          <div key={l.seq} class={`log-${l.stream}`}>
            {l.line}
          </div>
        ))}
      </pre>
      {job.output !== undefined ? (
        <>
          <h2>Output</h2>
          <pre class="code">{json(job.output)}</pre>
        </>
      ) : null}
      <JobFiles session={session} jobId={job.id} version={filesVersion} />
      <h2>Attempts</h2>
      {job.attempts.length === 0 ? (
        <p class="muted">Not started yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Agent</th>
                <th scope="col">Started</th>
                <th scope="col">Took</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {job.attempts.map((a) => (
                <tr key={a.n}>
                  <td>{a.n}</td>
                  <td class="mono">{a.agentId}</td>
                  <td>{new Date(a.startedAt).toLocaleTimeString()}</td>
                  <td>{duration((a.endedAt ? Date.parse(a.endedAt) : now) - Date.parse(a.startedAt))}</td>
                  <td>{a.error ? `${a.error.category}: ${a.error.message}` : "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
