import type { RunRecord } from '@autolab/contracts';
import { formatAgo, formatMetric, formatUsd } from '../lib/format.js';
import { navigate, runPath } from '../lib/router.js';
import { Link } from './Link.js';
import { ProgressBar } from './ProgressBar.js';
import { StatusBadge } from './StatusBadge.js';

export function RunRow({
  run,
  picked,
  onPick,
}: {
  run: RunRecord;
  /** Ticked for the compare view. */
  picked: boolean;
  onPick: (picked: boolean) => void;
}) {
  const cost = run.usage.costUsd;
  const stage = run.stage
    ? `${run.stage}${run.experimentStage && run.stage === 'experiments' ? ` · ${run.experimentStage}` : ''}`
    : '—';
  return (
    <tr className="run-row" data-run-id={run.id} onClick={() => navigate(runPath(run.id))}>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: the click only keeps the row from opening the run */}
      <td className="pick-cell" onClick={(e) => e.stopPropagation()}>
        <input
          type="checkbox"
          checked={picked}
          aria-label={`Compare ${run.id}`}
          onChange={(e) => onPick(e.target.checked)}
        />
      </td>
      <td className="goal-cell">
        <Link to={runPath(run.id)} className="goal-link">
          {run.goal}
        </Link>
        <span className="mono faint">{run.id}</span>
        {run.mode === 'evolve' && <span className="pill pill-soft">evolve</span>}
      </td>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td className="nowrap">{stage}</td>
      <td className="nowrap">
        {run.mode === 'evolve' ? (
          // An evolve run counts the candidates it ran; it has no iterations to fill.
          <span className="num" title="Candidates evaluated (evolve mode)">
            {run.iteration} candidates
          </span>
        ) : (
          <div className="mini-progress">
            <span className="num">
              {run.iteration}/{run.maxIterations}
            </span>
            <ProgressBar value={run.iteration} max={run.maxIterations} label="iterations" />
          </div>
        )}
      </td>
      <td className="nowrap">
        {run.bestMetric ? (
          <span>
            <span className="faint">{run.bestMetric.name}</span>{' '}
            <strong className="num">{formatMetric(run.bestMetric.value)}</strong>
          </span>
        ) : (
          <span className="faint">—</span>
        )}
      </td>
      <td className="nowrap">
        <div className="mini-progress">
          <span className="num">
            {formatUsd(cost)}
            {run.budgetUsd === null ? '' : ` / ${formatUsd(run.budgetUsd)}`}
          </span>
          {run.budgetUsd !== null && (
            <ProgressBar
              value={cost}
              max={run.budgetUsd}
              label="budget"
              tone={cost / run.budgetUsd > 0.8 ? 'danger' : 'ok'}
            />
          )}
        </div>
      </td>
      <td className="nowrap muted" title={run.createdAt}>
        {formatAgo(run.createdAt)}
      </td>
    </tr>
  );
}
