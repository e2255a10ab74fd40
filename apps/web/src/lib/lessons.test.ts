import type { LessonEvidence } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { formatConfidence, formatLessonRuns, lessonRuns } from './lessons.js';

const entry = (runId: string, stance: LessonEvidence['stance'], nodeId = 'n002') =>
  ({ runId, nodeId, stance }) as LessonEvidence;

describe('lessons', () => {
  it('counts distinct runs for and against, as the confidence does', () => {
    const evidence = [entry('run_a', 'supports'), entry('run_a', 'supports', 'n003'), entry('run_b', 'supports')];
    expect(lessonRuns({ evidence })).toEqual({ supporting: 2, contradicting: 0 });
    expect(formatLessonRuns({ evidence })).toBe('2 runs');
    expect(formatLessonRuns({ evidence: [entry('run_a', 'supports'), entry('run_c', 'contradicts')] })).toBe(
      '1 run · 1 against',
    );
  });

  it('shows confidence as a percentage', () => {
    expect(formatConfidence(2 / 3)).toBe('67%');
    expect(formatConfidence(0.75)).toBe('75%');
    expect(formatConfidence(Number.NaN)).toBe('—');
  });
});
