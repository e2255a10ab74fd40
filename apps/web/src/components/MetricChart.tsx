import { bestSoFar, chartGeometry, type Direction, linePath } from '../lib/chart.js';
import { formatMetric } from '../lib/format.js';
import type { MetricPoint } from '../lib/run-model.js';

const SIZE = { width: 640, height: 240, left: 52, right: 16, top: 16, bottom: 34 };

/** The metric of each successful experiment by iteration, with the best-so-far line. Plain SVG. */
export function MetricChart({
  points,
  name,
  direction,
  bestNodeId,
  onSelect,
}: {
  points: MetricPoint[];
  name: string;
  direction: Direction;
  bestNodeId: string | null;
  onSelect: (nodeId: string) => void;
}) {
  if (points.length === 0)
    return <p className="muted empty-inline">No successful experiment has reported {name} yet.</p>;
  const g = chartGeometry(points, SIZE);
  const best = bestSoFar(points, direction);
  const xy = (p: MetricPoint) => ({ x: g.x(p.iteration), y: g.y(p.value) });
  const bottom = SIZE.height - SIZE.bottom;
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${SIZE.width} ${SIZE.height}`}
      role="img"
      aria-label={`${name} by iteration`}
      data-testid="metric-chart"
    >
      {g.yTicks.map((t) => (
        <g key={`y${t}`}>
          <line x1={SIZE.left} x2={SIZE.width - SIZE.right} y1={g.y(t)} y2={g.y(t)} className="grid" />
          <text x={SIZE.left - 8} y={g.y(t)} dy="0.32em" textAnchor="end" className="tick">
            {formatMetric(t)}
          </text>
        </g>
      ))}
      {g.xTicks.map((t) => (
        <text key={`x${t}`} x={g.x(t)} y={bottom + 18} textAnchor="middle" className="tick">
          {t}
        </text>
      ))}
      <text
        x={(SIZE.left + SIZE.width - SIZE.right) / 2}
        y={SIZE.height - 2}
        textAnchor="middle"
        className="axis-label"
      >
        iteration
      </text>
      <path d={linePath(points.map(xy))} className="series-raw" />
      <path d={linePath(best.map(xy), true)} className="series-best" />
      {points.map((p) => (
        // biome-ignore lint/a11y/useSemanticElements: an SVG shape cannot be a <button>
        <circle
          key={p.nodeId}
          cx={g.x(p.iteration)}
          cy={g.y(p.value)}
          r={p.nodeId === bestNodeId ? 6 : 4.5}
          className={`point ${p.nodeId === bestNodeId ? 'point-best' : ''}`}
          role="button"
          tabIndex={-1}
          onClick={() => onSelect(p.nodeId)}
          onKeyDown={() => undefined}
        >
          <title>{`${p.nodeId}, iteration ${p.iteration}: ${name} = ${formatMetric(p.value)}`}</title>
        </circle>
      ))}
    </svg>
  );
}
