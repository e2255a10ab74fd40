import { useArtifactBlobUrl } from '../hooks/useArtifact.js';

/** An image of the run, fetched with the key (an <img src> could not send it). */
export function AuthImage({
  runId,
  path,
  alt,
  reloadKey = null,
}: {
  runId: string;
  path: string;
  alt: string;
  /** A new value fetches the image again (a figure redrawn under the same path). */
  reloadKey?: string | null;
}) {
  const image = useArtifactBlobUrl(runId, path, reloadKey);
  if (image.state === 'loading') return <div className="img-placeholder">Loading…</div>;
  if (image.state === 'error') return <div className="img-placeholder">Could not load: {image.message}</div>;
  return (
    <a href={image.value} target="_blank" rel="noreferrer" title="Open full size">
      <img src={image.value} alt={alt} loading="lazy" />
    </a>
  );
}
