import { useMemo } from 'react';
import { useArtifactText } from '../hooks/useArtifact.js';
import { codeDiff } from '../lib/code-diff.js';
import { DiffView } from './DiffView.js';

/** What a node changed in its parent's program (`nodes/<id>/experiment.py` of both), as a unified diff. */
export function NodeDiff({
  runId,
  nodeId,
  parentId,
  status,
}: {
  runId: string;
  nodeId: string;
  parentId: string;
  status: string;
}) {
  const parent = useArtifactText(runId, `nodes/${parentId}/experiment.py`);
  const child = useArtifactText(runId, `nodes/${nodeId}/experiment.py`, status);
  const diff = useMemo(
    () => (parent.state === 'ready' && child.state === 'ready' ? codeDiff(parent.value, child.value) : null),
    [parent, child],
  );
  const failed = [parent, child].find((l) => l.state === 'error');
  if (failed?.state === 'error') {
    return (
      <p className="muted">
        {failed.status === 404
          ? 'The code is stored once the node has run.'
          : `Could not load the code: ${failed.message}`}
      </p>
    );
  }
  if (!diff) return <p className="muted">Loading the code…</p>;
  if (diff.hunks.length === 0) return <p className="muted">The same code as {parentId}.</p>;
  return <DiffView diff={diff} against={parentId} testId="node-diff" />;
}
