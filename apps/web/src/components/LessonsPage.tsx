import { LESSON_KINDS, type Lesson, type LessonKind } from '@autolab/contracts';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { type ApiProblem, toProblem } from '../lib/api.js';
import { formatAgo } from '../lib/format.js';
import { lessonPath } from '../lib/router.js';
import { LessonBadges, LessonTags } from './LessonBadges.js';
import { Link } from './Link.js';
import { ProblemNote } from './ProblemNote.js';

const PAGE_SIZE = 20;

interface LessonQuery {
  q: string;
  kind: LessonKind | '';
  retracted: boolean;
}

/** The tenant's lessons: all, newest first, or what a run with a given goal would get; a page at a time. */
export function LessonsPage() {
  const { client } = useApi();
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState<LessonQuery>({ q: '', kind: '', retracted: false });
  const [lessons, setLessons] = useState<Lesson[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  // A slower answer to an older search must not replace a newer one.
  const latest = useRef(0);

  const load = useCallback(
    async (after: string | null) => {
      const request = ++latest.current;
      setLoading(true);
      try {
        const page = await client.listLessons({
          limit: PAGE_SIZE,
          ...(query.q ? { q: query.q } : {}),
          ...(query.kind ? { kind: query.kind } : {}),
          retracted: query.retracted ? 'include' : 'exclude',
          ...(after ? { cursor: after } : {}),
        });
        if (request !== latest.current) return;
        setProblem(null);
        setCursor(page.nextCursor);
        setLessons((old) => {
          if (!after) return page.lessons;
          const ids = new Set(old.map((l) => l.id));
          return [...old, ...page.lessons.filter((l) => !ids.has(l.id))];
        });
      } catch (err) {
        if (request !== latest.current) return;
        setProblem(toProblem(err));
        if (!after) setLessons([]);
      } finally {
        if (request === latest.current) setLoading(false);
      }
    },
    [client, query],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    setQuery((old) => ({ ...old, q: draft.trim() }));
  };
  const filtered = query.q !== '' || query.kind !== '' || query.retracted;

  return (
    <section className="lessons-page">
      <div className="page-head">
        <div>
          <h1>Lessons</h1>
          <p className="muted">
            What finished runs taught, each with the measurements behind it. Relevant ones go into new runs' prompts.
          </p>
        </div>
      </div>
      <form className="card lesson-filters" onSubmit={search}>
        <input
          type="search"
          name="q"
          aria-label="Search lessons"
          placeholder="A goal, a plan or an error: the lessons a run with it would get"
          value={draft}
          maxLength={2000}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button type="submit" className="btn btn-primary">
          Search
        </button>
        <select
          name="kind"
          aria-label="Kind"
          value={query.kind}
          onChange={(e) => setQuery((old) => ({ ...old, kind: e.target.value as LessonKind | '' }))}
        >
          <option value="">All kinds</option>
          {LESSON_KINDS.map((kind) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
        <label className="check-field">
          <input
            type="checkbox"
            name="retracted"
            checked={query.retracted}
            onChange={(e) => setQuery((old) => ({ ...old, retracted: e.target.checked }))}
          />
          Show retracted
        </label>
      </form>
      {query.q && (
        <p className="small muted lesson-search-note">
          Most relevant first: the lessons a run with this goal would get.{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setDraft('');
              setQuery((old) => ({ ...old, q: '' }));
            }}
          >
            Show all
          </button>
        </p>
      )}
      {problem && <ProblemNote problem={problem} />}
      {lessons.length === 0 && !loading && !problem && (
        <div className="empty card">
          <h2>{filtered ? 'No lessons match' : 'No lessons yet'}</h2>
          <p className="muted">
            {filtered
              ? query.q
                ? 'A run with this goal would get no lessons.'
                : 'Change the filters to see more.'
              : 'When a run ends, what it taught is kept here as lessons with their evidence.'}
          </p>
        </div>
      )}
      {lessons.length > 0 && (
        <ul className="lesson-list" data-testid="lesson-list">
          {lessons.map((lesson) => (
            <li key={lesson.id} className="card lesson-item" data-lesson-id={lesson.id}>
              <div className="lesson-item-head">
                <LessonBadges lesson={lesson} />
                <span className="faint small" title={lesson.updatedAt}>
                  {formatAgo(lesson.updatedAt)}
                </span>
              </div>
              <Link to={lessonPath(lesson.id)} className="lesson-text">
                {lesson.text}
              </Link>
              <div className="lesson-item-foot">
                <LessonTags tags={lesson.tags} />
                <span className="mono faint small">{lesson.id}</span>
              </div>
            </li>
          ))}
        </ul>
      )}
      <div className="list-foot">
        {cursor && (
          <button type="button" className="btn" disabled={loading} onClick={() => void load(cursor)}>
            {loading ? 'Loading…' : 'Load more'}
          </button>
        )}
        {loading && lessons.length === 0 && <span className="muted">Loading…</span>}
      </div>
    </section>
  );
}
