import type { EventOf } from '@autolab/contracts';
import { AuthImage } from './AuthImage.js';

/** Figures from `figure.created` events, and the vision model's critique of them when there is one. */
export function FigureGallery({
  runId,
  paths,
  versions = {},
  captions = {},
  critique = null,
}: {
  runId: string;
  paths: string[];
  /** Per path, the id of its latest `figure.created` (a revised figure is fetched again). */
  versions?: Record<string, string>;
  /** Per path, what the figure shows. */
  captions?: Record<string, string>;
  critique?: EventOf<'figures.critiqued'>['data'] | null;
}) {
  const revise = critique?.figures.filter((f) => f.verdict === 'revise') ?? [];
  const outcome = critique
    ? { none: 'no revision needed', done: 'revised once', failed: 'the revision drew nothing' }[critique.revision]
    : '';
  return (
    <>
      <div className="gallery" data-testid="figures">
        {paths.map((path) => (
          <figure key={path} className="figure">
            <AuthImage runId={runId} path={path} alt={captions[path] ?? path} reloadKey={versions[path] ?? null} />
            <figcaption title={captions[path] ? `${captions[path]}\n${path}` : path}>
              {captions[path] ?? path}
            </figcaption>
          </figure>
        ))}
      </div>
      {critique && (
        <div className="figure-critique" data-testid="figure-critique">
          <p>
            Critiqued by <span className="mono">{critique.model}</span>: {revise.length} of {critique.figures.length} to
            revise; {outcome}.
          </p>
          {revise.length > 0 && (
            <ul>
              {revise.map((f) => (
                <li key={f.file}>
                  <span className="mono">{f.file}</span>: {f.problems.join(' ')}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </>
  );
}
