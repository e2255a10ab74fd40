import { AuthImage } from './AuthImage.js';

/** Figures from `figure.created` events. */
export function FigureGallery({ runId, paths }: { runId: string; paths: string[] }) {
  return (
    <div className="gallery" data-testid="figures">
      {paths.map((path) => (
        <figure key={path} className="figure">
          <AuthImage runId={runId} path={path} alt={path} />
          <figcaption className="mono">{path}</figcaption>
        </figure>
      ))}
    </div>
  );
}
