// One uPlot line chart of a metric's history (x = step, y = value), resized with its container.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Metric } from "./api";

export function metricChart(container: HTMLElement, key: string, history: Metric[]): uPlot {
  const points = [...history].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  const xs = points.map((p) => p.step);
  const ys = points.map((p) => p.value);
  const width = () => Math.max(240, container.clientWidth || 480);
  const plot = new uPlot(
    {
      width: width(),
      height: 220,
      legend: { show: true },
      scales: { x: { time: false } },
      axes: [{ label: "step" }, {}],
      series: [
        { label: "step" },
        {
          label: key,
          stroke: "#2563eb",
          width: 2,
          points: { show: points.length <= 50 },
        },
      ],
    },
    [xs, ys],
    container,
  );
  new ResizeObserver(() => {
    const w = width();
    if (Math.abs(w - plot.width) > 4) plot.setSize({ width: w, height: 220 });
  }).observe(container);
  return plot;
}
