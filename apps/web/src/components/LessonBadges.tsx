import type { Lesson } from '@autolab/contracts';
import { formatConfidence, formatLessonRuns } from '../lib/lessons.js';

/** A lesson's kind, confidence, runs behind it and its flags, in one line. */
export function LessonBadges({ lesson }: { lesson: Lesson }) {
  return (
    <span className="lesson-badges">
      <span className="pill" data-kind={lesson.kind}>
        {lesson.kind}
      </span>
      <span className="num" title="Confidence: (runs for + 1) / (runs for + runs against + 2)">
        {formatConfidence(lesson.confidence)}
      </span>
      <span className="muted">{formatLessonRuns(lesson)}</span>
      {lesson.pinned && <span className="pill pill-best">pinned</span>}
      {lesson.retracted && <span className="pill pill-danger">retracted</span>}
    </span>
  );
}

/** A lesson's scope tags. */
export function LessonTags({ tags }: { tags: string[] }) {
  if (tags.length === 0) return null;
  return (
    <ul className="lesson-tags">
      {tags.map((tag) => (
        <li key={tag} className="pill pill-soft mono">
          {tag}
        </li>
      ))}
    </ul>
  );
}
