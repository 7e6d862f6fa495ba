import type { JobProgress, JobStatus } from "@gantry/protocol";

export function StatusBadge(props: { status: JobStatus | "idle" | "busy" | "draining" | "offline" | "error" }) {
  return <span class={`badge badge-${props.status}`}>{props.status}</span>;
}

export function ProgressBar(props: { progress: JobProgress | null; status: JobStatus; label: string }) {
  const { progress, status } = props;
  const value = status === "completed" ? 100 : (progress?.percent ?? (status === "running" ? undefined : 0));
  const text = value === undefined || value === null ? "" : `${Math.round(value)}%`;
  return (
    <span class="progress">
      {value === undefined || value === null ? (
        <progress aria-label={props.label} />
      ) : (
        <progress aria-label={props.label} max={100} value={value} />
      )}
      <span class="progress-text">{text}</span>
    </span>
  );
}

export function ErrorNote(props: { error: string | null }) {
  return props.error ? (
    <p class="error" role="alert">
      {props.error}
    </p>
  ) : null;
}
