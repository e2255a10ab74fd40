import type { LessonDetail } from '@autolab/contracts';
import { useApi } from '../hooks/api-context.js';
import { useDownload } from '../hooks/useDownload.js';
import { formatAgo, formatMetric } from '../lib/format.js';
import { nodeJsonPath } from '../lib/lessons.js';
import { runPath } from '../lib/router.js';
import { DownloadButton } from './DownloadButton.js';
import { Link } from './Link.js';

type Evidence = LessonDetail['evidence'][number];

/** Every measurement a lesson rests on, oldest first: the run and node it comes from, the metric, the error, the files. */
export function EvidenceTrail({ evidence }: { evidence: Evidence[] }) {
  return (
    <ol className="evidence-list">
      {evidence.map((entry) => (
        <EvidenceEntry key={`${entry.runId}/${entry.nodeId}/${entry.stance}`} entry={entry} />
      ))}
    </ol>
  );
}

function EvidenceEntry({ entry }: { entry: Evidence }) {
  const { client } = useApi();
  const { busy, error, save } = useDownload();
  // The files are read through the client with the key (the API's links name the same paths).
  const files = [
    { id: 'node', label: nodeJsonPath(entry.nodeId).split('/').pop()!, path: nodeJsonPath(entry.nodeId) },
    ...(entry.results ? [{ id: 'results', label: 'results.json', path: entry.results }] : []),
  ];
  const contradicts = entry.stance === 'contradicts';
  return (
    <li
      className={`evidence ${contradicts ? 'evidence-against' : ''}`}
      data-node-id={entry.nodeId}
      data-run-id={entry.runId}
    >
      <div className="evidence-head">
        <span className={`pill ${contradicts ? 'pill-danger' : 'pill-ok'}`}>{entry.stance}</span>
        <Link to={runPath(entry.runId)} className="mono">
          {entry.runId}
        </Link>
        <span>
          experiment <strong className="mono">{entry.nodeId}</strong>
          {entry.parentNodeId && (
            <>
              {' '}
              from <span className="mono">{entry.parentNodeId}</span>
            </>
          )}
        </span>
        <span className="faint small" title={entry.recordedAt}>
          {formatAgo(entry.recordedAt)}
        </span>
      </div>
      {entry.metric && (
        <p className="evidence-metric">
          <span className="faint">{entry.metric}</span> <span className="num">{formatMetric(entry.before)}</span> →{' '}
          <strong className="num">{formatMetric(entry.after)}</strong>
        </p>
      )}
      {entry.error && (
        <div className="evidence-error-wrap">
          {/* The error is the failed one's of the two: the cited experiment when it measured nothing, else its parent. */}
          <span className="faint small">
            error of{' '}
            <span className="mono">{entry.after === null ? entry.nodeId : (entry.parentNodeId ?? entry.nodeId)}</span>
          </span>
          <pre className="evidence-error">{entry.error}</pre>
        </div>
      )}
      <div className="evidence-files">
        {files.map((file) => (
          <DownloadButton
            key={file.id}
            id={file.id}
            label={file.label}
            busy={busy}
            disabled={busy !== null}
            small
            onClick={() =>
              void save(
                file.id,
                () => client.openArtifact(entry.runId, file.path),
                `${entry.runId}-${entry.nodeId}-${file.label}`,
              )
            }
          />
        ))}
        {error && <span className="field-error">{error}</span>}
      </div>
    </li>
  );
}
