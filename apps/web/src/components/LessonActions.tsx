import type { Lesson } from '@autolab/contracts';
import { type ReactNode, useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { type ApiProblem, toProblem } from '../lib/api.js';
import { ProblemNote } from './ProblemNote.js';

/**
 * Pin or unpin, retract or restore, delete (in two clicks, as a run is cancelled). A lesson another tenant shares
 * with this one answers `409 lesson_read_only`: the API's message is shown and the buttons stay disabled.
 */
export function LessonActions({
  lesson,
  onChanged,
  onDeleted,
  children,
}: {
  lesson: Lesson;
  /** What the buttons sit beside (the lesson's badges). */
  children: ReactNode;
  onChanged: (lesson: Lesson) => void;
  onDeleted: () => void;
}) {
  const { client } = useApi();
  const [busy, setBusy] = useState(false);
  const [armed, setArmed] = useState(false);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const readOnly = problem?.code === 'lesson_read_only';

  const act = async (call: () => Promise<void>) => {
    setBusy(true);
    setProblem(null);
    try {
      await call();
    } catch (err) {
      setProblem(toProblem(err));
    } finally {
      setBusy(false);
      setArmed(false);
    }
  };
  const update = (change: { pinned?: boolean; retracted?: boolean }) =>
    act(async () => onChanged(await client.updateLesson(lesson.id, change)));
  const remove = () =>
    act(async () => {
      await client.deleteLesson(lesson.id);
      onDeleted();
    });
  const disabled = busy || readOnly;

  return (
    <>
      <div className="lesson-item-head">
        {children}
        <div className="card-actions" data-testid="lesson-actions">
          <button
            type="button"
            className="btn btn-small"
            disabled={disabled}
            onClick={() => void update({ pinned: !lesson.pinned })}
          >
            {lesson.pinned ? 'Unpin' : 'Pin'}
          </button>
          <button
            type="button"
            className="btn btn-small"
            disabled={disabled}
            onClick={() => void update({ retracted: !lesson.retracted })}
          >
            {lesson.retracted ? 'Restore' : 'Retract'}
          </button>
          {armed ? (
            <>
              <button
                type="button"
                className="btn btn-small btn-danger"
                disabled={disabled}
                onClick={() => void remove()}
              >
                {busy ? 'Deleting…' : 'Yes, delete the lesson'}
              </button>
              <button type="button" className="btn btn-small btn-ghost" onClick={() => setArmed(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button
              type="button"
              className="btn btn-small btn-danger-outline"
              disabled={disabled}
              onClick={() => setArmed(true)}
            >
              Delete
            </button>
          )}
        </div>
      </div>
      {problem && <ProblemNote problem={problem} />}
    </>
  );
}
