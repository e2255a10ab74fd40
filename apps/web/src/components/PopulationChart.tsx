import { useMemo, useRef } from 'react';
import type uPlot from 'uplot';
import { type EvolveView, type PopulationSeries, populationSeries } from '../lib/evolve.js';
import { formatMetric } from '../lib/format.js';
import { cssColor, drawAxisMarks, UPlotChart } from './UPlotChart.js';

/**
 * One colour per island (the chart's points and the legend); islands past the palette reuse it. None is the accent
 * (the best-so-far line) or red (the unscored marks).
 */
export const ISLAND_COLOURS = ['#0891b2', '#d97706', '#16a34a', '#db2777', '#7c3aed', '#0d9488', '#ea580c', '#64748b'];
export const islandColour = (island: number) => ISLAND_COLOURS[island % ISLAND_COLOURS.length]!;

/**
 * Every candidate's score by generation (uPlot), one colour per island, the best so far as a step line, and the
 * candidates without a score (incorrect, failed) as red marks on the x axis, listed under the chart. A click opens the
 * candidate under the cursor.
 */
export function PopulationChart({ view, onSelect }: { view: EvolveView; onSelect: (candidateId: string) => void }) {
  const series = useMemo(() => populationSeries(view), [view]);
  const live = useRef<Live>({ series, onSelect });
  live.current = { series, onSelect };
  const islands = series.islands.length;
  const opts = useMemo(() => chartOptions(islands, view.direction, live), [islands, view.direction]);
  const data = useMemo<uPlot.AlignedData>(() => [series.xs, ...series.islands, series.best], [series]);
  if (series.xs.length === 0) return <p className="muted empty-inline">No candidate has been evaluated yet.</p>;
  return (
    <div className="metric-chart" data-testid="population" data-unscored={series.unscored.length}>
      {series.islands.some((s) => s.some((v) => v !== null)) ? (
        <UPlotChart opts={opts} data={data} testId="population-chart" />
      ) : (
        <p className="muted empty-inline" data-testid="population-chart">
          No correct candidate yet.
        </p>
      )}
      {series.unscored.length > 0 && (
        <p className="small muted chart-notes">
          <span className="fail-swatch" aria-hidden="true" /> No score:{' '}
          {series.unscored.map((u, i) => (
            <span key={u.candidateId}>
              {i > 0 && ', '}
              <button type="button" className="link-button" onClick={() => onSelect(u.candidateId)}>
                {u.candidateId}
              </button>{' '}
              ({u.status})
            </span>
          ))}
          .
        </p>
      )}
    </div>
  );
}

interface Live {
  series: PopulationSeries;
  onSelect: (candidateId: string) => void;
}

function chartOptions(
  islands: number,
  direction: 'maximize' | 'minimize',
  live: { readonly current: Live },
): Omit<uPlot.Options, 'width' | 'height'> {
  const accent = cssColor('--accent', '#4f46e5');
  const danger = cssColor('--danger', '#dc2626');
  const muted = cssColor('--muted', '#5b6275');
  const grid = cssColor('--border', '#e3e6ef');
  const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const value = (_u: uPlot, v: number | null) => (v == null ? '—' : formatMetric(v));
  return {
    scales: { x: { time: false } },
    cursor: { drag: { x: false, y: false }, points: { size: 9 } },
    legend: { show: true, live: true },
    series: [
      { label: 'generation', value: (_u, v) => (v == null ? '—' : String(Math.round(v))) },
      ...Array.from({ length: islands }, (_, island) => ({
        label: `island ${island}`,
        stroke: islandColour(island),
        width: 0,
        paths: () => null,
        points: { show: true, size: 8, fill: islandColour(island), stroke: islandColour(island) },
        value,
      })),
      {
        label: `best so far (${direction === 'maximize' ? 'max' : 'min'})`,
        stroke: accent,
        width: 2.5,
        spanGaps: true,
        points: { show: false },
        value,
      },
    ],
    axes: [
      { ...axis, label: 'generation', incrs: [1, 2, 5, 10, 20, 50, 100], values: (_u, ticks) => ticks.map(String) },
      { ...axis, size: 64, values: (_u, ticks) => ticks.map((t) => formatMetric(t)) },
    ],
    hooks: {
      // Candidates without a score: a red tick on the x axis where they would be.
      draw: [
        (u) =>
          drawAxisMarks(
            u,
            live.current.series.unscored.map((m) => m.x),
            danger,
          ),
      ],
      ready: [
        (u) => {
          u.over.addEventListener('click', () => {
            const idx = u.cursor.idx;
            const id = idx == null ? undefined : live.current.series.candidateIds[idx];
            if (id) live.current.onSelect(id);
          });
          u.over.classList.add('clickable');
        },
      ],
    },
  };
}
