import type { EventOf } from '@autolab/contracts';
import { useArtifactText } from '../hooks/useArtifact.js';

interface ReviewText {
  summary?: string;
  strengths?: string[];
  weaknesses?: string[];
  questions?: string[];
}

/** The meta-review score and decision, with the meta-review's text from review.json. */
export function ReviewPanel({ runId, review }: { runId: string; review: EventOf<'review.completed'>['data'] }) {
  const file = useArtifactText(runId, 'review.json');
  let meta: ReviewText | null = null;
  let count = 0;
  if (file.state === 'ready') {
    try {
      const parsed = JSON.parse(file.value) as { meta?: ReviewText; reviews?: unknown[] };
      meta = parsed.meta ?? null;
      count = parsed.reviews?.length ?? 0;
    } catch {
      meta = null;
    }
  }
  return (
    <div className="review" data-testid="review">
      <div className="review-score">
        <span className="big-number">
          {review.overall.toFixed(1)}
          <span className="faint">/10</span>
        </span>
        <span className={`pill ${review.decision === 'accept' ? 'pill-ok' : 'pill-danger'}`}>{review.decision}</span>
      </div>
      <p className="small muted">
        {review.reviewers} reviewer{review.reviewers === 1 ? '' : 's'}
        {count && count !== review.reviewers ? ` (${count} usable)` : ''}, confidence {review.confidence.toFixed(1)}/5
      </p>
      {meta?.summary && <p className="prose small">{meta.summary}</p>}
      {meta && (meta.strengths?.length || meta.weaknesses?.length) ? (
        <details>
          <summary>Strengths and weaknesses</summary>
          {meta.strengths?.length ? (
            <>
              <h4>Strengths</h4>
              <ul>
                {meta.strengths.map((s) => (
                  <li key={s}>{s}</li>
                ))}
              </ul>
            </>
          ) : null}
          {meta.weaknesses?.length ? (
            <>
              <h4>Weaknesses</h4>
              <ul>
                {meta.weaknesses.map((s) => (
                  <li key={s}>{s}</li>
                ))}
              </ul>
            </>
          ) : null}
        </details>
      ) : null}
    </div>
  );
}
