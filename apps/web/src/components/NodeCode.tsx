import { useArtifactText } from '../hooks/useArtifact.js';
import { CodeBlock } from './CodeBlock.js';

/** The experiment code of a node (artifact `nodes/<id>/experiment.py`). */
export function NodeCode({ runId, nodeId, status }: { runId: string; nodeId: string; status: string }) {
  const code = useArtifactText(runId, `nodes/${nodeId}/experiment.py`, status);
  if (code.state === 'loading') return <p className="muted">Loading the code…</p>;
  if (code.state === 'error') {
    return (
      <p className="muted">
        {code.status === 404 ? 'The code is stored once the node has run.' : `Could not load the code: ${code.message}`}
      </p>
    );
  }
  return <CodeBlock text={code.value} numbered testId="node-code" />;
}
