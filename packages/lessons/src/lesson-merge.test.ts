import type { LessonEvidence } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { type LearnedLesson, mergeLessons } from './lesson-merge.js';

const evidence = (runId: string, nodeId: string, stance: 'supports' | 'contradicts' = 'supports'): LessonEvidence => ({
  runId,
  nodeId,
  parentNodeId: null,
  stance,
  metric: 'loss',
  before: 0.9,
  after: 0.3,
  error: null,
  results: `experiments/${nodeId}/results.json`,
  recordedAt: '2026-12-01T00:00:00.000Z',
});

let ids = 0;
const ctx = (now = '2026-12-01T00:00:00.000Z') => ({
  tenant: 'lab',
  now,
  newId: () => `les_${String(++ids).padStart(26, '0')}`,
});

const learned = (over: Partial<LearnedLesson> = {}): LearnedLesson => ({
  kind: 'technique',
  text: 'Standardizing the features made gradient descent converge 15x faster.',
  tags: ['task:optimization', 'lib:numpy', 'lib:numpy'],
  evidence: [evidence('run_a', 'n004')],
  relation: null,
  ...over,
});

describe('mergeLessons', () => {
  it('stores a new lesson with its evidence and the confidence of one run', () => {
    const [lesson] = mergeLessons([], [learned()], ctx());
    expect(lesson).toMatchObject({ tenant: 'lab', kind: 'technique', pinned: false, retracted: false });
    expect(lesson!.tags).toEqual(['lib:numpy', 'task:optimization']);
    expect(lesson!.confidence).toBeCloseTo(2 / 3);
  });

  it('drops a lesson without supporting evidence', () => {
    expect(mergeLessons([], [learned({ evidence: [] })], ctx())).toEqual([]);
  });

  it('merges the same claim from a later run into one lesson with more evidence and higher confidence', () => {
    const [first] = mergeLessons([], [learned()], ctx());
    const again = learned({
      text: 'Feature standardization sped up convergence.',
      evidence: [evidence('run_b', 'n002')],
      relation: { lessonId: first!.id, stance: 'supports' },
    });
    const [merged, ...rest] = mergeLessons([first!], [again], ctx('2026-12-02T00:00:00.000Z'));
    expect(rest).toEqual([]);
    expect(merged!.id).toBe(first!.id);
    expect(merged!.evidence.map((e) => e.runId)).toEqual(['run_a', 'run_b']);
    expect(merged!.confidence).toBeCloseTo(3 / 4);
    expect(merged!.updatedAt).toBe('2026-12-02T00:00:00.000Z');
  });

  it('lowers the confidence of a contradicted lesson, keeps the contradiction as evidence and stores the new claim', () => {
    const [first] = mergeLessons([], [learned()], ctx());
    const contrary = learned({
      kind: 'negative-result',
      text: 'On data already on one scale, standardizing changed nothing.',
      evidence: [evidence('run_c', 'n003')],
      relation: { lessonId: first!.id, stance: 'contradicts' },
    });
    const out = mergeLessons([first!], [contrary], ctx());
    const old = out.find((l) => l.id === first!.id)!;
    expect(old.evidence.at(-1)).toMatchObject({ runId: 'run_c', stance: 'contradicts' });
    expect(old.confidence).toBeCloseTo(1 / 2);
    expect(out.find((l) => l.id !== first!.id)).toMatchObject({ kind: 'negative-result' });
  });

  it('is idempotent: the same run merged twice changes nothing the second time', () => {
    const first = mergeLessons([], [learned()], ctx());
    expect(mergeLessons(first, [learned()], ctx())).toEqual([]);
  });

  it('ignores a relation to a lesson it does not know (another tenant’s id) and stores the lesson as new', () => {
    const out = mergeLessons([], [learned({ relation: { lessonId: 'les_unknown', stance: 'supports' } })], ctx());
    expect(out).toHaveLength(1);
    expect(out[0]!.evidence).toHaveLength(1);
  });
});
