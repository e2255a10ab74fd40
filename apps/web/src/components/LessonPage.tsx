import type { LessonDetail } from '@autolab/contracts';
import { useCallback, useEffect, useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { type ApiProblem, toProblem } from '../lib/api.js';
import { formatAgo } from '../lib/format.js';
import { Card } from './Card.js';
import { EvidenceTrail } from './EvidenceTrail.js';
import { LessonActions } from './LessonActions.js';
import { LessonBadges, LessonTags } from './LessonBadges.js';
import { Link } from './Link.js';
import { ProblemNote } from './ProblemNote.js';

/** One lesson with its evidence trail: every measurement behind it, linked to its run and files; pin, retract, delete. */
export function LessonPage({ lessonId }: { lessonId: string }) {
  const { client } = useApi();
  const [lesson, setLesson] = useState<LessonDetail | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [deleted, setDeleted] = useState(false);

  const load = useCallback(async () => {
    try {
      setLesson(await client.getLesson(lessonId));
      setProblem(null);
    } catch (err) {
      setProblem(toProblem(err));
    }
  }, [client, lessonId]);

  useEffect(() => {
    void load();
  }, [load]);

  const back = (
    <nav className="crumbs">
      <Link to="/lessons">Lessons</Link> / <span className="mono">{lessonId}</span>
    </nav>
  );
  if (deleted) {
    return (
      <div className="lesson-page">
        {back}
        <div className="note note-ok" role="status">
          Lesson {lessonId} is deleted. <Link to="/lessons">Back to the lessons</Link>
        </div>
      </div>
    );
  }
  if (!lesson) {
    return (
      <div className="lesson-page">
        {back}
        {problem ? <ProblemNote problem={problem} /> : <p className="muted">Loading…</p>}
      </div>
    );
  }
  return (
    <div className="lesson-page" data-lesson-id={lesson.id}>
      {back}
      <div className="card lesson-head">
        <LessonActions
          lesson={lesson}
          onChanged={(changed) => setLesson((old) => (old ? { ...old, ...changed, evidence: old.evidence } : old))}
          onDeleted={() => setDeleted(true)}
        >
          <LessonBadges lesson={lesson} />
        </LessonActions>
        <p className="lesson-text lesson-text-full" data-testid="lesson-text">
          {lesson.text}
        </p>
        <LessonTags tags={lesson.tags} />
        <p className="small faint">
          Tenant <span className="mono">{lesson.tenant}</span> · learned{' '}
          <span title={lesson.createdAt}>{formatAgo(lesson.createdAt)}</span> · changed{' '}
          <span title={lesson.updatedAt}>{formatAgo(lesson.updatedAt)}</span>
        </p>
      </div>
      {problem && <ProblemNote problem={problem} />}
      <Card title={`Evidence · ${lesson.evidence.length}`} testId="evidence-trail">
        <EvidenceTrail evidence={lesson.evidence} />
      </Card>
    </div>
  );
}
