import { useCallback, useEffect, useRef, useState } from 'react';
import { formatDuration } from '../lib/format.js';
import type { TreeNode } from '../lib/run-model.js';
import { Card } from './Card.js';
import { CodeBlock } from './CodeBlock.js';
import { MetricGrid } from './MetricGrid.js';
import { ModelCalls } from './ModelCalls.js';
import { NodeCode } from './NodeCode.js';
import { NodeDiff } from './NodeDiff.js';
import { TabBar } from './TabBar.js';

type Tab = 'overview' | 'code' | 'diff' | 'output' | 'model calls';

/** One experiment: plan, the model's analysis, metrics, error, code and output. */
export function NodeDetail({
  runId,
  node,
  best,
  primaryMetric,
  modelCalls,
  onClose,
}: {
  runId: string;
  node: TreeNode;
  best: boolean;
  primaryMetric: string | null;
  /** The run's count of model calls so far: its transcript is read again when this grows. */
  modelCalls: number;
  onClose: () => void;
}) {
  const [tab, setTab] = useState<Tab>('overview');
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, []);
  const output =
    node.status === 'running'
      ? node.liveOutput
      : [node.stdoutTail, node.stderrTail && `--- stderr ---\n${node.stderrTail}`].filter(Boolean).join('\n');
  const ofThisNode = useCallback((call: { nodeId: string | null }) => call.nodeId === node.id, [node.id]);
  return (
    <div ref={ref} className="node-detail-wrap">
      <Card
        className="node-detail"
        testId="node-detail"
        title={
          <span className="node-title">
            <span className={`node-dot status-${node.status}`} aria-hidden="true" />
            Node {node.id}
            <span className="pill">{node.operator}</span>
            {node.stage && <span className="pill pill-soft">{node.stage}</span>}
            {best && <span className="pill pill-best">best</span>}
          </span>
        }
        actions={
          <button type="button" className="btn btn-small btn-ghost" onClick={onClose} aria-label="Close node details">
            ✕
          </button>
        }
      >
        <dl className="facts">
          <div>
            <dt>Status</dt>
            <dd className={`text-${node.status}`}>{node.status}</dd>
          </div>
          <div>
            <dt>Iteration</dt>
            <dd>{node.iteration}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(node.durationMs)}</dd>
          </div>
          <div>
            <dt>Exit code</dt>
            <dd>
              {node.exitCode ?? '—'}
              {node.timedOut && ' (timed out)'}
            </dd>
          </div>
          <div>
            <dt>Parent</dt>
            <dd>{node.parentId ?? '—'}</dd>
          </div>
        </dl>
        <TabBar
          tabs={['overview', 'code', ...(node.parentId ? ['diff'] : []), 'output', 'model calls'] as Tab[]}
          current={tab}
          onChange={setTab}
        />
        {tab === 'overview' && (
          <div className="node-overview">
            <h3>Plan</h3>
            <p className="prose">{node.plan || '—'}</p>
            {node.analysis && (
              <>
                <h3>Analysis</h3>
                <p className="prose analysis">{node.analysis}</p>
              </>
            )}
            <MetricGrid metrics={node.metrics} primary={primaryMetric} />
            {node.error && (
              <>
                <h3>Error</h3>
                <CodeBlock text={node.error} wrap testId="node-error" />
              </>
            )}
          </div>
        )}
        {tab === 'code' && <NodeCode runId={runId} nodeId={node.id} status={node.status} />}
        {tab === 'diff' && node.parentId && (
          <NodeDiff runId={runId} nodeId={node.id} parentId={node.parentId} status={node.status} />
        )}
        {tab === 'model calls' && (
          <ModelCalls
            runId={runId}
            filter={ofThisNode}
            modelCalls={modelCalls}
            empty="No model call of this experiment is in the transcript (yet)."
          />
        )}
        {tab === 'output' &&
          (output ? <CodeBlock text={output} testId="node-output" /> : <p className="muted">No output (yet).</p>)}
      </Card>
    </div>
  );
}
