import type { RunRecord } from '@autolab/contracts';
import { otherModels } from '@autolab/contracts/model-roles';
import type { ReactNode } from 'react';
import { useNow } from '../hooks/useNow.js';
import type { StreamState } from '../lib/event-stream.js';
import { formatAgo, formatDuration } from '../lib/format.js';
import { Link } from './Link.js';
import { LiveIndicator } from './LiveIndicator.js';
import { StatusBadge } from './StatusBadge.js';

/** Goal, status, id, model and timing of a run, with its actions. */
export function RunHeader({
  runId,
  run,
  status,
  stream,
  streamDetail,
  actions,
}: {
  runId: string;
  run: RunRecord | null;
  status: string;
  stream: StreamState;
  streamDetail: string | null;
  actions?: ReactNode;
}) {
  const started = run?.startedAt ? Date.parse(run.startedAt) : null;
  const ended = run?.finishedAt ? Date.parse(run.finishedAt) : null;
  const now = useNow(started !== null && ended === null);
  return (
    <header className="run-head">
      <div className="crumbs">
        <Link to="/">Runs</Link> <span className="faint">/</span> <span className="mono">{runId}</span>
      </div>
      <div className="run-title-row">
        <h1 className="run-goal">{run?.goal ?? 'Loading…'}</h1>
        <div className="run-actions">{actions}</div>
      </div>
      <div className="run-meta">
        <span data-testid="run-status">
          <StatusBadge status={status} />
        </span>
        <LiveIndicator state={stream} detail={streamDetail} />
        {run && (
          <>
            <span data-testid="run-models">
              model <strong>{run.model}</strong>
              {otherModels(run.models).map(({ model, roles }) => (
                <span key={model}>
                  {' '}
                  · {roles.join(', ')} <strong>{model}</strong>
                </span>
              ))}
            </span>
            <span title={run.createdAt}>created {formatAgo(run.createdAt)}</span>
            {started && <span>ran {formatDuration(Math.max(0, (ended ?? now) - started))}</span>}
            {run.attempt > 1 && <span>attempt {run.attempt}</span>}
          </>
        )}
      </div>
      {run?.error && (
        <div className="note note-error">
          <strong>{run.error.code}</strong>: {run.error.message}
        </div>
      )}
    </header>
  );
}
