import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  color: string;
  /** Draw as bars instead of a line. */
  bars?: boolean;
}

/**
 * A uPlot time chart that fills its container's width. `data` is uPlot's columns: x (Unix seconds)
 * then one array per series. The summary goes to screen readers in place of the canvas.
 */
export function Chart(props: {
  title: string;
  summary: string;
  series: Series[];
  data: (number | null)[][];
  unit: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { series, data, unit } = props;

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: 180,
      legend: { show: true, live: false },
      // Half a minute either side, so the first and last minutes' bars are drawn whole.
      scales: { x: { time: true, range: (_u, min, max) => [min - 30, max + 30] } },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { stroke: "currentColor" },
        { stroke: "currentColor", values: (_u, ticks) => ticks.map((t) => `${t}${unit}`), size: 60 },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: s.bars ? `${s.color}66` : undefined,
          width: 2,
          paths: s.bars ? uPlot.paths.bars?.({ size: [0.8, 40] }) : undefined,
          points: { show: !s.bars },
        })),
      ],
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The series layout is fixed per chart; data changes go through setData below.
  }, [series.length, unit]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} aria-hidden="true" />
      <p class="sr-only">{props.summary}</p>
    </figure>
  );
}
