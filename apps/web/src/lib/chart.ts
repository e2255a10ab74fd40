import type { NodeOutcome } from './run-model.js';

export type Direction = 'maximize' | 'minimize';

/**
 * What the metric chart draws (uPlot's column layout: one x array, one array per series, `null` for a gap): the
 * chosen metric of every experiment by iteration, the best so far as a step line (when the metric's direction is
 * known), and the failed experiments, which have no value and are marked on the x axis instead.
 */
export interface MetricSeries {
  iterations: number[];
  values: (number | null)[];
  best: (number | null)[];
  /** The node of each x position (to open it on a click). */
  nodeIds: string[];
  failed: { iteration: number; nodeId: string }[];
  /** Experiments that succeeded but did not record this metric. */
  missing: number;
}

export function metricSeries(
  outcomes: readonly NodeOutcome[],
  metric: string,
  direction: Direction | null,
): MetricSeries {
  const sorted = [...outcomes].sort((a, b) => a.iteration - b.iteration);
  const series: MetricSeries = { iterations: [], values: [], best: [], nodeIds: [], failed: [], missing: 0 };
  let best: number | null = null;
  for (const outcome of sorted) {
    const value = outcome.failed ? null : (outcome.metrics[metric] ?? null);
    if (outcome.failed) series.failed.push({ iteration: outcome.iteration, nodeId: outcome.nodeId });
    else if (value === null) series.missing++;
    if (value !== null && direction && (best === null || (direction === 'maximize' ? value > best : value < best)))
      best = value;
    series.iterations.push(outcome.iteration);
    series.values.push(value);
    series.best.push(direction ? best : null);
    series.nodeIds.push(outcome.nodeId);
  }
  return series;
}

/** Several runs' values of one metric on one shared iteration axis (for the compare view). */
export interface CompareSeries {
  iterations: number[];
  /** Per run, its value at each iteration (null where it has none). */
  values: (number | null)[][];
}

export function compareSeries(runs: readonly (readonly NodeOutcome[])[], metric: string): CompareSeries {
  const iterations = [...new Set(runs.flatMap((outcomes) => outcomes.map((o) => o.iteration)))].sort((a, b) => a - b);
  const values = runs.map((outcomes) => {
    const at = new Map<number, number>();
    for (const o of outcomes) {
      const value = o.failed ? undefined : o.metrics[metric];
      if (value !== undefined) at.set(o.iteration, value);
    }
    return iterations.map((i) => at.get(i) ?? null);
  });
  return { iterations, values };
}

/** The direction of a metric: the plan's for its own metric, else guessed from the name; null when unsure. */
export function directionOf(metric: string, primary: { name: string; direction: Direction } | null): Direction | null {
  if (primary && metric === primary.name) return primary.direction;
  if (/loss|error|err\b|rmse|mae|mse|perplexity|steps|time|latency|regret/i.test(metric)) return 'minimize';
  if (/acc|accuracy|f1|auc|precision|recall|score|reward|r2/i.test(metric)) return 'maximize';
  return null;
}
