import type { MetricPoint } from './run-model.js';

export type Direction = 'maximize' | 'minimize';

/** Maps a domain linearly onto a range; a zero-width domain maps to the middle of the range. */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]) {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  return (value: number): number => (span === 0 ? (r0 + r1) / 2 : r0 + ((value - d0) / span) * (r1 - r0));
}

/** About `count` round tick values (1, 2, 5 × 10^k steps) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return niceTicks(min - pad, max + pad, count);
  }
  if (min > max) [min, max] = [max, min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(roundTo(v, step));
  if (ticks[ticks.length - 1]! < max) ticks.push(roundTo(ticks[ticks.length - 1]! + step, step));
  return ticks;
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(Math.min(decimals, 12)));
}

/** The best value so far at each point (running max or min). */
export function bestSoFar(points: readonly MetricPoint[], direction: Direction): MetricPoint[] {
  const out: MetricPoint[] = [];
  let best: MetricPoint | null = null;
  for (const p of points) {
    if (!best || (direction === 'maximize' ? p.value > best.value : p.value < best.value)) best = p;
    out.push({ ...best, iteration: p.iteration });
  }
  return out;
}

export interface ChartGeometry {
  x: (iteration: number) => number;
  y: (value: number) => number;
  xTicks: number[];
  yTicks: number[];
}

/** Scales for a metric chart of `width`×`height` pixels with the given margins. */
export function chartGeometry(
  points: readonly MetricPoint[],
  size: { width: number; height: number; left: number; right: number; top: number; bottom: number },
): ChartGeometry {
  const iterations = points.map((p) => p.iteration);
  const values = points.map((p) => p.value);
  const xMin = Math.min(...iterations, 1);
  const xMax = Math.max(...iterations, xMin + 1);
  const yTicks = values.length ? niceTicks(Math.min(...values), Math.max(...values), 4) : [0, 1];
  const xTicks = integerTicks(xMin, xMax, 8);
  return {
    x: linearScale([xMin, xMax], [size.left, size.width - size.right]),
    y: linearScale([yTicks[0]!, yTicks[yTicks.length - 1]!], [size.height - size.bottom, size.top]),
    xTicks,
    yTicks,
  };
}

/** Integer ticks from min to max, at most about `count` of them. */
export function integerTicks(min: number, max: number, count: number): number[] {
  const step = Math.max(1, Math.ceil((max - min) / Math.max(1, count)));
  const ticks: number[] = [];
  for (let v = Math.ceil(min); v <= max; v += step) ticks.push(v);
  return ticks;
}

/** An SVG path through the points (`M x y L x y …`); steps horizontally first when `step` is set. */
export function linePath(points: readonly { x: number; y: number }[], step = false): string {
  return points
    .map((p, i) => {
      if (i === 0) return `M${fmt(p.x)} ${fmt(p.y)}`;
      if (!step) return `L${fmt(p.x)} ${fmt(p.y)}`;
      const prev = points[i - 1]!;
      return `L${fmt(p.x)} ${fmt(prev.y)} L${fmt(p.x)} ${fmt(p.y)}`;
    })
    .join(' ');
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();
