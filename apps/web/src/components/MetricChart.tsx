import { useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import { type Direction, directionOf, type MetricSeries, metricSeries } from '../lib/chart.js';
import { formatMetric } from '../lib/format.js';
import type { NodeOutcome } from '../lib/run-model.js';
import { MetricSelect } from './MetricSelect.js';
import { cssColor, drawAxisMarks, iterationAxes, UPlotChart } from './UPlotChart.js';

/**
 * Any recorded metric of every experiment by iteration (uPlot), the best so far as a step line, and the failed
 * experiments marked on the x axis (red ticks; listed under the chart too). Clicking a point opens its node.
 */
export function MetricChart({
  outcomes,
  metrics,
  primary,
  onSelect,
}: {
  outcomes: NodeOutcome[];
  /** Every metric the experiments recorded, the plan's first. */
  metrics: string[];
  primary: { name: string; direction: Direction } | null;
  onSelect: (nodeId: string) => void;
}) {
  const [chosen, setChosen] = useState<string | null>(null);
  const metric = chosen && metrics.includes(chosen) ? chosen : (metrics[0] ?? null);
  const direction = metric ? directionOf(metric, primary) : null;
  const series = useMemo(
    () => (metric ? metricSeries(outcomes, metric, direction) : null),
    [outcomes, metric, direction],
  );
  // The chart's hooks read the latest node ids and failures through this ref: it is made once per metric and fed
  // new data in place as experiments finish.
  const live = useRef<Live>({ series, onSelect });
  live.current = { series, onSelect };
  const opts = useMemo(() => chartOptions(metric ?? '', direction, live), [metric, direction]);
  const data = useMemo<uPlot.AlignedData>(
    () => (series ? [series.iterations, series.values, series.best] : [[], [], []]),
    [series],
  );

  if (!series || series.iterations.length === 0)
    return <p className="muted empty-inline">No experiment has finished yet.</p>;
  const hasValues = series.values.some((v) => v !== null);
  return (
    <div className="metric-chart" data-metric={metric} data-failures={series.failed.length}>
      <MetricSelect metrics={metrics} value={metric ?? ''} main={primary?.name ?? null} onChange={setChosen} />
      {hasValues ? (
        <UPlotChart opts={opts} data={data} testId="metric-chart" />
      ) : (
        <p className="muted empty-inline" data-testid="metric-chart">
          No successful experiment has reported {metric} yet.
        </p>
      )}
      {(series.failed.length > 0 || series.missing > 0) && (
        <p className="small muted chart-notes">
          {series.failed.length > 0 && (
            <>
              <span className="fail-swatch" aria-hidden="true" /> Failed (no value):{' '}
              {series.failed.map((f, i) => (
                <span key={f.nodeId}>
                  {i > 0 && ', '}
                  <button type="button" className="link-button" onClick={() => onSelect(f.nodeId)}>
                    {f.nodeId}
                  </button>{' '}
                  (iteration {f.iteration})
                </span>
              ))}
              .{' '}
            </>
          )}
          {series.missing > 0 && `${series.missing} successful experiment(s) did not record ${metric}.`}
        </p>
      )}
    </div>
  );
}

interface Live {
  series: MetricSeries | null;
  onSelect: (nodeId: string) => void;
}

function chartOptions(
  metric: string,
  direction: Direction | null,
  live: { readonly current: Live },
): Omit<uPlot.Options, 'width' | 'height'> {
  const accent = cssColor('--accent', '#4f46e5');
  const faint = cssColor('--faint', '#8a91a5');
  const danger = cssColor('--danger', '#dc2626');
  return {
    scales: { x: { time: false } },
    cursor: { drag: { x: false, y: false }, points: { size: 9 } },
    legend: { show: true, live: true },
    series: [
      { label: 'iteration', value: (_u, v) => (v == null ? '—' : String(v)) },
      {
        label: metric,
        stroke: faint,
        width: 1.5,
        spanGaps: true,
        points: { show: true, size: 7, fill: accent, stroke: accent },
        value: (_u, v) => (v == null ? '—' : formatMetric(v)),
      },
      {
        label: direction ? `best so far (${direction === 'maximize' ? 'max' : 'min'})` : 'best so far',
        show: direction !== null,
        stroke: accent,
        width: 2.5,
        spanGaps: true,
        points: { show: false },
        paths: uPlot.paths.stepped?.({ align: 1 }),
        value: (_u, v) => (v == null ? '—' : formatMetric(v)),
      },
    ],
    axes: iterationAxes(),
    hooks: {
      // Failed experiments have no value: a red tick on the x axis at their iteration.
      draw: [
        (u) =>
          drawAxisMarks(
            u,
            (live.current.series?.failed ?? []).map((f) => f.iteration),
            danger,
          ),
      ],
      ready: [
        (u) => {
          u.over.addEventListener('click', () => {
            const idx = u.cursor.idx;
            const nodeId = idx == null ? undefined : live.current.series?.nodeIds[idx];
            if (nodeId) live.current.onSelect(nodeId);
          });
          u.over.classList.add('clickable');
        },
      ],
    },
  };
}
