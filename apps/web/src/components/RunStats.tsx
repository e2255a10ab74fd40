import type { RunRecord } from '@autolab/contracts';
import { formatMetric, formatUsd, tokenNotes } from '../lib/format.js';
import type { RunModel } from '../lib/run-model.js';
import { ProgressBar } from './ProgressBar.js';
import { StatTile } from './StatTile.js';

/** An evolve run's progress: generations finished of the most, and its best candidate so far. */
export interface EvolveProgress {
  generation: number;
  generations: number | null;
  best: { id: string; score: number | null } | null;
  direction: 'maximize' | 'minimize';
}

/**
 * Iteration x/y (an evolve run: generation x/y), best metric (best score), cost against budget (with the tokens'
 * cached share, and whether they are estimates).
 */
export function RunStats({
  run,
  model,
  evolve,
}: {
  run: RunRecord | null;
  model: RunModel;
  evolve?: EvolveProgress | null;
}) {
  const finishedNodes = [...model.nodes.values()].filter((n) => n.status !== 'running').length;
  const iteration = Math.max(run?.iteration ?? 0, finishedNodes);
  const maxIterations = run?.maxIterations ?? 0;
  const cost = Math.max(run?.usage.costUsd ?? 0, model.usage?.costUsd ?? 0);
  // null: a model of the run has no price, so it has no USD budget (its token cap binds).
  const budget = run ? run.budgetUsd : model.budgetUsd;
  const usage = (model.usage?.calls ?? 0) >= (run?.usage.calls ?? 0) ? (model.usage ?? run?.usage) : run?.usage;
  const best = run?.bestMetric;
  const direction = best?.direction ?? model.plan?.metric.direction;
  const budgetShare = budget ? cost / budget : 0;
  return (
    <div className="stats">
      {evolve ? (
        <>
          <StatTile
            label="Generation"
            value={
              <span data-testid="iteration">
                {evolve.generation}
                <span className="faint"> / {evolve.generations ?? '—'}</span>
              </span>
            }
          >
            <ProgressBar value={evolve.generation} max={evolve.generations ?? 0} label="generations" />
          </StatTile>
          <StatTile
            label="Best score"
            value={
              <span data-testid="best-metric">
                {formatMetric(evolve.best?.score)}
                <span className="faint small">
                  {' '}
                  {evolve.direction === 'maximize' ? '↑ higher is better' : '↓ lower is better'}
                </span>
              </span>
            }
          >
            {evolve.best && <span className="faint small">candidate {evolve.best.id}</span>}
          </StatTile>
        </>
      ) : (
        <>
          <StatTile
            label="Iteration"
            value={
              <span data-testid="iteration">
                {iteration}
                <span className="faint"> / {maxIterations || '—'}</span>
              </span>
            }
          >
            <ProgressBar value={iteration} max={maxIterations} label="iterations" />
          </StatTile>
          <StatTile
            label={best ? `Best ${best.name}` : model.plan ? `Best ${model.plan.metric.name}` : 'Best metric'}
            value={
              <span data-testid="best-metric">
                {formatMetric(best?.value)}
                {direction && (
                  <span className="faint small">
                    {' '}
                    {direction === 'maximize' ? '↑ higher is better' : '↓ lower is better'}
                  </span>
                )}
              </span>
            }
          >
            {best && (
              <span className="faint small">
                node {best.nodeId}, iteration {best.iteration}
              </span>
            )}
          </StatTile>
        </>
      )}
      {run?.heldOut && (
        <StatTile
          label={`Held-out ${run.heldOut.metric}`}
          value={
            <span data-testid="held-out">
              {formatMetric(run.heldOut.value)}
              <span className="faint small">
                {' '}
                {run.heldOut.direction === 'maximize' ? '↑ higher is better' : '↓ lower is better'}
              </span>
            </span>
          }
        >
          <span className="faint small">node {run.heldOut.nodeId}, measured by the service on hidden data</span>
        </StatTile>
      )}
      <StatTile
        label="Cost / budget"
        value={
          <span data-testid="cost">
            {formatUsd(cost)}
            <span className="faint"> / {budget === null ? 'no USD budget' : formatUsd(budget)}</span>
          </span>
        }
      >
        {budget !== null && (
          <ProgressBar
            value={cost}
            max={budget}
            label="budget used"
            tone={budgetShare > 0.9 ? 'danger' : budgetShare > 0.7 ? 'warn' : 'ok'}
          />
        )}
        {usage && (
          <span className="faint small" data-testid="tokens">
            {[`${usage.calls} calls`, `${usage.totalTokens.toLocaleString()} tokens`, ...tokenNotes(usage)].join(' · ')}
          </span>
        )}
      </StatTile>
    </div>
  );
}
