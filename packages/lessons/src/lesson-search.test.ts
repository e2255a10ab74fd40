import { readFileSync } from 'node:fs';
import { type Lesson, type LessonKind, lessonConfidence } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { LessonIndex, lessonTerms } from './lesson-search.js';

interface Fixture {
  lessons: { id: string; tenant: string; kind: LessonKind; text: string; tags: string[] }[];
  goals: { tenant: string; text: string; relevant: string[] }[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/retrieval.json', import.meta.url), 'utf8')) as Fixture;

const asLesson = (l: Fixture['lessons'][number]): Lesson => ({
  ...l,
  evidence: [],
  confidence: lessonConfidence([{ runId: 'run_x', stance: 'supports' }]),
  pinned: false,
  retracted: false,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});

/** One index per tenant, as the service builds them: a tenant's index holds only its own lessons. */
const indexes = new Map<string, LessonIndex>();
for (const tenant of new Set(fixture.lessons.map((l) => l.tenant))) {
  indexes.set(tenant, new LessonIndex(fixture.lessons.filter((l) => l.tenant === tenant).map(asLesson)));
}

/**
 * Precision of what goes into a prompt, cut at 3: relevant among the returned top 3 over the number returned. A goal
 * with relevant lessons that gets none scores 0 (returning nothing is not a way to be precise); a goal without any
 * scores 1 only when nothing at all is returned.
 */
function precisionAt3(returned: string[], relevant: string[]): number {
  const top = returned.slice(0, 3);
  if (relevant.length === 0) return top.length === 0 ? 1 : 0;
  if (top.length === 0) return 0;
  return top.filter((id) => relevant.includes(id)).length / top.length;
}

describe('lesson retrieval on the hand-labelled fixture', () => {
  it('has at least 40 lessons and 12 goals', () => {
    expect(fixture.lessons.length).toBeGreaterThanOrEqual(40);
    expect(fixture.goals.length).toBeGreaterThanOrEqual(12);
  });

  it('reaches a mean precision@3 of at least 0.8 and never returns another tenant’s lesson', () => {
    const scores: number[] = [];
    const misses: string[] = [];
    for (const goal of fixture.goals) {
      const hits = indexes.get(goal.tenant)!.find({ text: goal.text, limit: 3 });
      for (const hit of hits) expect(hit.lesson.tenant).toBe(goal.tenant);
      const ids = hits.map((h) => h.lesson.id);
      const p = precisionAt3(ids, goal.relevant);
      if (p < 1) misses.push(`${p.toFixed(2)} ${goal.text.slice(0, 60)} → ${ids.join(', ')}`);
      scores.push(p);
    }
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    console.log(
      `precision@3 = ${mean.toFixed(3)} over ${scores.length} goals${misses.length ? `\n${misses.join('\n')}` : ''}`,
    );
    expect(mean).toBeGreaterThanOrEqual(0.8);
  });

  it('returns nothing for goals unrelated to every lesson', () => {
    for (const goal of fixture.goals.filter((g) => g.relevant.length === 0)) {
      expect(indexes.get(goal.tenant)!.find({ text: goal.text, limit: 3 })).toEqual([]);
    }
  });

  it('filters by kind and tag, leaves retracted lessons out and ranks pinned ones first', () => {
    const lessons = fixture.lessons.filter((l) => l.tenant === 'lab').map(asLesson);
    const goal = fixture.goals[0]!.text;
    const pitfalls = new LessonIndex(lessons).find({ text: goal, kinds: ['pitfall'], limit: 10 });
    expect(pitfalls.length).toBeGreaterThan(0);
    expect(pitfalls.every((h) => h.lesson.kind === 'pitfall')).toBe(true);
    const tagged = new LessonIndex(lessons).find({ text: goal, tags: ['lib:numpy'], limit: 10 });
    expect(tagged.every((h) => h.lesson.tags.includes('lib:numpy'))).toBe(true);

    const before = new LessonIndex(lessons).find({ text: goal, limit: 10 }).map((h) => h.lesson.id);
    const last = before.at(-1)!;
    const edited = lessons.map((l) =>
      l.id === before[0] ? { ...l, retracted: true } : l.id === last ? { ...l, pinned: true } : l,
    );
    const after = new LessonIndex(edited).find({ text: goal, limit: 10 }).map((h) => h.lesson.id);
    expect(after).not.toContain(before[0]);
    expect(after[0]).toBe(last);
    expect(
      new LessonIndex(edited).find({ text: goal, limit: 10, includeRetracted: true }).map((h) => h.lesson.id),
    ).toContain(before[0]);
  });

  it('stems and drops the words every goal shares', () => {
    expect(lessonTerms('Standardizing the features improves the experiment')).toEqual(['standard', 'featur']);
  });
});

describe('hybrid retrieval (embeddings)', () => {
  const lessons = fixture.lessons.filter((l) => l.tenant === 'lab').map(asLesson);
  const index = new LessonIndex(lessons);
  // Vectors by hand: the query is close to km1 only, which shares no word with it.
  const vectors = new Map<string, number[]>(lessons.map((l) => [l.id, l.id === 'km1' ? [1, 0.1, 0] : [0, 0, 1]]));
  const query = 'grouping shoppers into segments';

  it('finds a lesson by meaning that full-text search misses, and only it', () => {
    expect(index.find({ text: query, limit: 3 })).toEqual([]);
    const hits = index.find({ text: query, limit: 3, semantic: { query: [1, 0, 0], vectors, minSimilarity: 0.5 } });
    expect(hits.map((h) => h.lesson.id)).toEqual(['km1']);
  });

  it('ranks a lesson found both ways above one found either way, and keeps the filters', () => {
    const text = 'k-means clustering unscaled features standardize initialisation';
    const both = index.find({ text, limit: 5, semantic: { query: [1, 0, 0], vectors, minSimilarity: 0.5 } });
    expect(both[0]!.lesson.id).toBe('km1');
    const onlyTechniques = index.find({
      text: query,
      kinds: ['technique'],
      limit: 3,
      semantic: { query: [1, 0, 0], vectors, minSimilarity: 0.5 },
    });
    expect(onlyTechniques).toEqual([]);
  });
});
