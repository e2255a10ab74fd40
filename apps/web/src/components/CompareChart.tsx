import { useMemo, useState } from 'react';
import type uPlot from 'uplot';
import { compareSeries } from '../lib/chart.js';
import { formatMetric } from '../lib/format.js';
import type { NodeOutcome } from '../lib/run-model.js';
import { MetricSelect } from './MetricSelect.js';
import { iterationAxes, UPlotChart } from './UPlotChart.js';

/** Colours of the compared runs, in order (the table's columns use the same). */
export const RUN_COLOURS = ['#4f46e5', '#16a34a', '#d97706', '#dc2626', '#0891b2', '#a855f7'];

/** One metric of several runs by iteration, one line per run (uPlot); any metric one of them recorded. */
export function CompareChart({
  runs,
  metrics,
}: {
  runs: { label: string; outcomes: NodeOutcome[] }[];
  metrics: string[];
}) {
  const [chosen, setChosen] = useState<string | null>(null);
  const metric = chosen && metrics.includes(chosen) ? chosen : (metrics[0] ?? null);
  const series = useMemo(
    () =>
      metric
        ? compareSeries(
            runs.map((r) => r.outcomes),
            metric,
          )
        : null,
    [runs, metric],
  );
  const labels = runs.map((r) => r.label).join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `labels` stands for the runs' labels
  const opts = useMemo((): Omit<uPlot.Options, 'width' | 'height'> => {
    return {
      scales: { x: { time: false } },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: 'iteration' },
        ...runs.map((r, i) => ({
          label: r.label,
          stroke: RUN_COLOURS[i % RUN_COLOURS.length]!,
          width: 2,
          spanGaps: true,
          points: { show: true, size: 6 },
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : formatMetric(v)),
        })),
      ],
      axes: iterationAxes(),
    };
  }, [labels, metric]);
  const data = useMemo<uPlot.AlignedData>(() => (series ? [series.iterations, ...series.values] : [[]]), [series]);
  if (!metric || !series || series.iterations.length === 0)
    return <p className="muted empty-inline">None of these runs has a finished experiment.</p>;
  return (
    <div className="metric-chart" data-metric={metric}>
      <MetricSelect metrics={metrics} value={metric} onChange={setChosen} />
      <UPlotChart key={runs.length} opts={opts} data={data} testId="compare-chart" />
    </div>
  );
}
