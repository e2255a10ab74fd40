import { lessonPath } from '../lib/router.js';
import type { RunModel } from '../lib/run-model.js';
import { Link } from './Link.js';

const LessonLinks = ({ ids }: { ids: string[] }) => (
  <span className="lesson-links">
    {ids.map((id) => (
      <Link key={id} to={lessonPath(id)} className="mono">
        {id}
      </Link>
    ))}
  </span>
);

/** Which of the tenant's lessons went into which step of this run (`lessons.applied`), and what the run taught. */
export function RunLessons({ model }: { model: RunModel }) {
  const learned = model.lessonsLearned;
  return (
    <div className="run-lessons" data-testid="run-lessons">
      {model.lessonsApplied.length > 0 && (
        <ul className="run-lessons-list">
          {model.lessonsApplied.map((applied, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the list only grows, in event order
            <li key={i} data-step={applied.step}>
              <span className="pill pill-soft">{applied.step}</span> <LessonLinks ids={applied.lessonIds} />
            </li>
          ))}
        </ul>
      )}
      {learned && (
        <p className="small">
          <strong>Learned:</strong>{' '}
          {learned.created.length + learned.updated.length === 0 ? (
            <span className="muted">nothing new</span>
          ) : (
            <>
              {learned.created.length > 0 && (
                <>
                  new <LessonLinks ids={learned.created} />{' '}
                </>
              )}
              {learned.updated.length > 0 && (
                <>
                  more evidence for <LessonLinks ids={learned.updated} />
                </>
              )}
            </>
          )}
          {learned.dropped > 0 && <span className="muted"> · {learned.dropped} without evidence dropped</span>}
        </p>
      )}
    </div>
  );
}
