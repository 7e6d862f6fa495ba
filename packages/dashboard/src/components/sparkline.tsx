/** A small inline SVG line of recent values (0–max), with the latest value named for screen readers. */
/** Samples fill from the right, `slots` across, so the line grows as heartbeats arrive. */
export function Sparkline(props: {
  values: (number | null)[];
  slots: number;
  max: number;
  label: string;
  width?: number;
  height?: number;
}) {
  const { values, max, label } = props;
  const w = props.width ?? 120;
  const h = props.height ?? 28;
  const step = w / Math.max(props.slots - 1, 1);
  const x0 = w - (values.length - 1) * step;
  const points = values
    .map((v, i) =>
      v === null ? null : `${(x0 + i * step).toFixed(1)},${(h - (Math.min(v, max) / max) * (h - 2) - 1).toFixed(1)}`,
    )
    .filter((p): p is string => p !== null);
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <title>{label}</title>
      <rect x="0" y="0" width={w} height={h} class="spark-bg" />
      {points.length > 1 ? <polyline points={points.join(" ")} class="spark-line" /> : null}
      {points.length === 1 ? (
        <circle cx={points[0]!.split(",")[0]} cy={points[0]!.split(",")[1]} r="2" class="spark-dot" />
      ) : null}
    </svg>
  );
}
