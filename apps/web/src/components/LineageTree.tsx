import { useMemo } from 'react';
import type { EvolveCandidate, EvolveView } from '../lib/evolve.js';
import { formatMetric } from '../lib/format.js';
import type { TreeNode } from '../lib/run-model.js';
import { candidateTreeStatus } from './CandidateDetail.js';
import { ExperimentTree } from './ExperimentTree.js';

/** A candidate as the experiment tree draws a node: under its first parent, its score as the metric. */
function asTreeNode(c: EvolveCandidate): TreeNode {
  return {
    id: c.id,
    parentId: c.parentIds[0] ?? null,
    operator: c.origin,
    iteration: c.generation,
    stage: `generation ${c.generation} · island ${c.island}`,
    plan: c.summary,
    status: candidateTreeStatus(c),
    metrics: c.score === null ? {} : { score: c.score },
    error: c.error,
    exitCode: null,
    timedOut: false,
    durationMs: c.durationMs,
    stdoutTail: '',
    stderrTail: '',
    analysis: null,
    liveOutput: '',
  };
}

/**
 * The population's genealogy (each candidate that ran under its first parent; rejected ones never ran) with the best
 * program's lineage drawn as a path, and that lineage spelled out below: initial program → … → best.
 */
export function LineageTree({
  view,
  selectedId,
  onSelect,
}: {
  view: EvolveView;
  selectedId: string | null;
  onSelect: (candidateId: string) => void;
}) {
  const nodes = useMemo(() => view.candidates.filter((c) => c.status !== 'rejected').map(asTreeNode), [view]);
  const lineage = useMemo(() => new Set(view.lineage), [view]);
  const byId = useMemo(() => new Map(view.candidates.map((c) => [c.id, c])), [view]);
  return (
    <>
      <ExperimentTree
        nodes={nodes}
        bestNodeId={view.best}
        selectedId={selectedId}
        metric="score"
        onSelect={onSelect}
        highlighted={lineage}
        label="Population"
        empty="No candidates yet. They appear here as the models write them."
      />
      {view.lineage.length > 0 && (
        <ol className="lineage" data-testid="lineage" aria-label="Lineage of the best program">
          {view.lineage.map((id) => {
            const c = byId.get(id);
            return (
              <li key={id}>
                <button type="button" className="link-button" onClick={() => onSelect(id)}>
                  {id}
                </button>{' '}
                <span className="muted small">
                  {c ? `${c.origin} · ${formatMetric(c.score)}${c.model ? ` · ${c.model}` : ''}` : ''}
                </span>
                {c?.summary && <span className="lineage-summary small">{c.summary}</span>}
              </li>
            );
          })}
        </ol>
      )}
    </>
  );
}
