import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Buckets { times: number[]; series: { label: string; counts: number[] }[] }

const COLORS: Record<string, string> = {
  ERROR: "#d64545", FATAL: "#8b1a1a", WARN: "#e0a030", WARNING: "#e0a030", INFO: "#3b82c4", DEBUG: "#8a8f98",
};
const PALETTE = ["#3b82c4", "#59a14f", "#e0a030", "#d64545", "#b07aa1", "#76b7b2", "#9c755f"];

/** Stacked bars of counts per interval (one colour per level); dragging selects a range to zoom into. */
export function Histogram({ data, onZoom }: { data: Buckets; onZoom: (startUs: number, endUs: number) => void }) {
  const host = useRef<HTMLDivElement>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    if (!host.current) return;
    const xs = data.times.map((t) => t / 1e6);
    // Stacked: each series drawn as the running sum of those before it.
    const stacked: number[][] = [];
    let acc = xs.map(() => 0);
    for (const s of data.series) {
      acc = acc.map((a, i) => a + (s.counts[i] ?? 0));
      stacked.push(acc.slice());
    }
    const bars = uPlot.paths.bars!({ size: [0.8, 40] });
    const plot = new uPlot({
      width: host.current.clientWidth || 800, height: 140,
      legend: { show: data.series.length > 1 },
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { size: 50 }],
      series: [{}, ...data.series.map((s, i) => ({
        label: s.label, paths: bars, fill: COLORS[s.label] ?? PALETTE[i % PALETTE.length], stroke: "transparent",
      })).reverse()],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          const from = u.posToVal(u.select.left, "x"), to = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          zoom.current(Math.floor(from * 1e6), Math.ceil(to * 1e6));
        }],
      },
    }, [xs, ...stacked.reverse()] as uPlot.AlignedData, host.current);
    return () => plot.destroy();
  }, [data]);

  return <div class="histogram" ref={host} role="img" aria-label="Records per interval" data-testid="histogram" />;
}
