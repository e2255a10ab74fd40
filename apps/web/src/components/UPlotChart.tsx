import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMetric } from '../lib/format.js';

/**
 * A uPlot chart that fills its container's width: made once per `opts`, fed new `data` in place, resized with the
 * container. uPlot draws on a canvas and positions its parts through the CSSOM, which the page's CSP allows
 * (no inline `<style>`, no eval).
 */
export function UPlotChart({
  opts,
  data,
  height = 240,
  testId,
  className,
}: {
  /** Everything but the size; a new object makes a new chart. */
  opts: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height?: number;
  testId?: string;
  className?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot({ ...opts, width: Math.max(200, el.clientWidth), height }, latest.current, el);
    chart.current = plot;
    const resize = new ResizeObserver(() => {
      const width = Math.max(200, el.clientWidth);
      if (width !== plot.width) plot.setSize({ width, height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
  }, [opts, height]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div ref={box} className={`uplot-box ${className ?? ''}`} data-testid={testId} />;
}

/** The axes of a metric-by-iteration chart: whole iterations below, metric values (about 4 digits) on the left. */
export function iterationAxes(): uPlot.Axis[] {
  const muted = cssColor('--muted', '#5b6275');
  const grid = cssColor('--border', '#e3e6ef');
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return [
    { ...axis, label: 'iteration', incrs: [1, 2, 5, 10, 20, 50, 100] },
    { ...axis, size: 64, values: (_u, ticks) => ticks.map((t) => formatMetric(t)) },
  ];
}

/** The page's colours (CSS variables) for the canvas, which cannot read them itself. */
export function cssColor(name: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** Red triangles on the x axis at `xs` (points that have no value: failed experiments, unscored candidates). */
export function drawAxisMarks(u: uPlot, xs: readonly number[], colour: string): void {
  if (xs.length === 0) return;
  const { ctx } = u;
  const bottom = u.bbox.top + u.bbox.height;
  const size = 7 * devicePixelRatio;
  ctx.save();
  ctx.fillStyle = colour;
  for (const value of xs) {
    const x = u.valToPos(value, 'x', true);
    ctx.beginPath();
    ctx.moveTo(x, bottom - size * 1.4);
    ctx.lineTo(x - size / 1.4, bottom);
    ctx.lineTo(x + size / 1.4, bottom);
    ctx.closePath();
    ctx.fill();
  }
  ctx.restore();
}
