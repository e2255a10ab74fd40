import { useArtifactBlobUrl } from '../hooks/useArtifact.js';

/** The compiled paper inline: fetched with the key as a blob, shown by the browser's PDF viewer. */
export function PaperViewer({ runId, path, version }: { runId: string; path: string; version: string }) {
  const pdf = useArtifactBlobUrl(runId, path, version);
  if (pdf.state === 'loading') return <p className="muted">Loading the paper…</p>;
  if (pdf.state === 'error') return <p className="muted">Could not load the paper: {pdf.message}</p>;
  return (
    <div className="paper-frame">
      <iframe src={pdf.value} title="Paper (PDF)" data-testid="paper-frame" />
      <p className="faint small">
        Nothing shown? Your browser may not display PDFs inline —{' '}
        <a href={pdf.value} target="_blank" rel="noreferrer">
          open it in a new tab
        </a>{' '}
        or use the download below.
      </p>
    </div>
  );
}
