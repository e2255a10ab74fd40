import { EVOLVE_ARTIFACTS } from '@autolab/contracts/evolve-artifacts';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useArtifactText } from '../hooks/useArtifact.js';
import { parsedDiff } from '../lib/code-diff.js';
import type { EvolveCandidate } from '../lib/evolve.js';
import { formatDuration, formatMetric } from '../lib/format.js';
import { Card } from './Card.js';
import { CodeBlock } from './CodeBlock.js';
import { DiffView } from './DiffView.js';
import { MetricGrid } from './MetricGrid.js';
import { TabBar } from './TabBar.js';

type Tab = 'overview' | 'diff' | 'program';

/** The tree's colour of a candidate's outcome. */
export const candidateTreeStatus = (c: EvolveCandidate) =>
  c.status === 'evaluated' ? 'ok' : c.status === 'pending' ? 'running' : 'failed';

/**
 * One candidate of an evolve run: its outcome, score and metrics, the model's account of its change, the error of an
 * incorrect or failed one, and its diff against its first parent (`patch.diff`) and its program.
 */
export function CandidateDetail({
  runId,
  candidate,
  best,
  program,
  onSelect,
  onClose,
}: {
  runId: string;
  candidate: EvolveCandidate;
  best: boolean;
  /** The evolved file's name; null until database.json says it (then the program tab waits). */
  program: string | null;
  onSelect: (candidateId: string) => void;
  onClose: () => void;
}) {
  const [tab, setTab] = useState<Tab>('overview');
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, []);
  const c = candidate;
  const ran = c.status !== 'rejected';
  const tabs: Tab[] = ['overview', ...(ran && c.parentIds.length > 0 ? (['diff'] as Tab[]) : []), 'program'];
  return (
    <div ref={ref} className="node-detail-wrap">
      <Card
        className="node-detail"
        testId="candidate-detail"
        title={
          <span className="node-title">
            <span className={`node-dot status-${candidateTreeStatus(c)}`} aria-hidden="true" />
            Candidate {c.id}
            <span className="pill">{c.origin}</span>
            <span className="pill pill-soft">island {c.island}</span>
            {best && <span className="pill pill-best">best</span>}
          </span>
        }
        actions={
          <button type="button" className="btn btn-small btn-ghost" onClick={onClose} aria-label="Close candidate">
            ✕
          </button>
        }
      >
        <dl className="facts">
          <div>
            <dt>Status</dt>
            <dd className={`text-${candidateTreeStatus(c)}`}>{c.status}</dd>
          </div>
          <div>
            <dt>Score</dt>
            <dd className="num">{formatMetric(c.score)}</dd>
          </div>
          <div>
            <dt>Generation</dt>
            <dd>{c.generation}</dd>
          </div>
          <div>
            <dt>Model</dt>
            <dd>{c.model ?? '— (your program)'}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(c.durationMs)}</dd>
          </div>
          <div>
            <dt>Parents</dt>
            <dd>
              {c.parentIds.length === 0
                ? '—'
                : c.parentIds.map((id, i) => (
                    <span key={id}>
                      {i > 0 && ' + '}
                      <button type="button" className="link-button" onClick={() => onSelect(id)}>
                        {id}
                      </button>
                    </span>
                  ))}
            </dd>
          </div>
        </dl>
        <TabBar tabs={tabs} current={tab} onChange={setTab} />
        {tab === 'overview' && (
          <div className="node-overview">
            <h3>Change</h3>
            <p className="prose" data-testid="candidate-summary">
              {c.summary || '—'}
            </p>
            {c.status === 'rejected' && (
              <p className="muted" data-testid="candidate-rejected">
                Rejected before it ran: {formatMetric(c.similarity)} similar to{' '}
                {c.similarTo ? (
                  <button type="button" className="link-button" onClick={() => onSelect(c.similarTo!)}>
                    {c.similarTo}
                  </button>
                ) : (
                  'an existing program'
                )}
                .
              </p>
            )}
            <MetricGrid metrics={c.metrics} primary="score" />
            {c.error && (
              <>
                <h3>Error</h3>
                <CodeBlock text={c.error} wrap testId="candidate-error" />
              </>
            )}
          </div>
        )}
        {tab === 'diff' && <CandidateDiff runId={runId} candidate={c} />}
        {tab === 'program' &&
          (program ? (
            <CandidateProgram runId={runId} candidateId={c.id} program={program} status={c.status} />
          ) : (
            <p className="muted">The program is shown once the first generation is stored.</p>
          ))}
      </Card>
    </div>
  );
}

/** The candidate's change to its first parent, as the engine stored it (`patch.diff`). */
function CandidateDiff({ runId, candidate }: { runId: string; candidate: EvolveCandidate }) {
  const patch = useArtifactText(runId, EVOLVE_ARTIFACTS.patch(candidate.id), candidate.status);
  const diff = useMemo(() => (patch.state === 'ready' ? parsedDiff(patch.value) : null), [patch]);
  if (patch.state === 'error')
    return (
      <p className="muted">
        {patch.status === 404
          ? 'The diff is stored once the candidate has run.'
          : `Could not load the diff: ${patch.message}`}
      </p>
    );
  if (!diff) return <p className="muted">Loading the diff…</p>;
  const parent = candidate.parentIds[0]!;
  if (diff.hunks.length === 0) return <p className="muted">The same program as {parent}.</p>;
  return <DiffView diff={diff} against={parent} testId="candidate-diff" />;
}

function CandidateProgram({
  runId,
  candidateId,
  program,
  status,
}: {
  runId: string;
  candidateId: string;
  program: string;
  status: string;
}) {
  const code = useArtifactText(runId, EVOLVE_ARTIFACTS.program(candidateId, program), status);
  if (code.state === 'loading') return <p className="muted">Loading the program…</p>;
  if (code.state === 'error')
    return (
      <p className="muted">
        {code.status === 404
          ? 'The program is stored once the candidate has run.'
          : `Could not load it: ${code.message}`}
      </p>
    );
  return <CodeBlock text={code.value} numbered testId="candidate-program" />;
}
