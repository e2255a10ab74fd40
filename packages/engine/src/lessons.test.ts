import type { Lesson, LessonKind } from '@autolab/contracts';
import type { LearnedLesson, SearchCounts } from '@autolab/lessons';
import { describe, expect, it } from 'vitest';
import type { ExperimentNode, ResearchPlan } from './journal.js';
import { evidenceFor, renderLessons } from './lessons.js';
import type { LessonLibrary } from './ports.js';
import { experimentNode, replies, setup, submit } from './testing/fakes.js';

const plan: ResearchPlan = {
  title: 'Scaling',
  hypothesis: 'Scaling helps.',
  metric: { name: 'loss', direction: 'minimize', description: 'final loss' },
  plan: 'Try it.',
};
const node = (id: string, parentId: string | null, over: Partial<ExperimentNode> = {}): ExperimentNode =>
  experimentNode(id, {
    parentId,
    operator: parentId ? 'improve' : 'draft',
    iteration: 1,
    plan: 'p',
    code: 'c',
    metrics: { loss: 0.5 },
    ...over,
  });

const lesson = (id: string, kind: LessonKind, text: string): Lesson => ({
  id,
  tenant: 'lab',
  kind,
  text,
  tags: [],
  evidence: [],
  confidence: 0.67,
  pinned: false,
  retracted: false,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});

describe('evidenceFor: a lesson is kept only when the recorded nodes show what its kind claims', () => {
  const crashed = node('n001', null, { buggy: true, primary: null, metrics: {}, error: 'ValueError: shapes' });
  const fixed = node('n002', 'n001', { operator: 'debug', primary: 0.5 });
  const better = node('n003', 'n002', { primary: 0.3 });
  const worse = node('n004', 'n003', { primary: 0.4 });
  const nodes = [crashed, fixed, better, worse];
  const at = '2026-12-05T00:00:00.000Z';
  const ev = (kind: LessonKind, id: string) => evidenceFor('run_a', nodes, plan, kind, id, at);

  it('a pitfall needs a failure: the crash itself or its fix, with the recorded error', () => {
    expect(ev('pitfall', 'n002')).toMatchObject({
      nodeId: 'n002',
      parentNodeId: 'n001',
      before: null,
      after: 0.5,
      error: 'ValueError: shapes',
    });
    expect(ev('pitfall', 'n001')).toMatchObject({ after: null, error: 'ValueError: shapes' });
    expect(ev('pitfall', 'n003')).toBeNull();
  });

  it('a technique needs a measured improvement over the parent; a negative result its absence', () => {
    expect(ev('technique', 'n003')).toMatchObject({ before: 0.5, after: 0.3, metric: 'loss', error: null });
    expect(ev('technique', 'n004')).toBeNull();
    expect(ev('negative-result', 'n004')).toMatchObject({ before: 0.3, after: 0.4 });
    expect(ev('negative-result', 'n003')).toBeNull();
  });

  it('a setting needs a working node; an unknown node is never evidence', () => {
    expect(ev('setting', 'n003')).not.toBeNull();
    expect(ev('setting', 'n001')).toBeNull();
    expect(ev('setting', 'n999')).toBeNull();
  });
});

describe('renderLessons', () => {
  it('keeps the block within its budget however large the library', () => {
    const many = Array.from({ length: 1000 }, (_, i) => lesson(`les_${i}`, 'pitfall', `Lesson ${i} `.repeat(20)));
    const block = renderLessons(many, 600 * 4);
    expect(block.text.length).toBeLessThanOrEqual(2400);
    expect(block.lessons.length).toBeGreaterThan(0);
    expect(renderLessons([], 2400)).toEqual({ text: '', lessons: [] });
  });
});

/** A library in memory: finds every lesson whose text shares a word with the query, records what it is asked to learn. */
class MemoryLibrary implements LessonLibrary {
  readonly retrieval = 'fulltext';
  learned: LearnedLesson[][] = [];
  searches: SearchCounts[] = [];
  queries: string[] = [];
  constructor(private readonly lessons: Lesson[]) {}
  async find(query: { text: string; kinds?: readonly LessonKind[]; limit: number }) {
    this.queries.push(query.text);
    const words = new Set(query.text.toLowerCase().split(/\W+/));
    return this.lessons
      .filter((l) => !query.kinds || query.kinds.includes(l.kind))
      .filter((l) =>
        l.text
          .toLowerCase()
          .split(/\W+/)
          .some((w) => w.length > 4 && words.has(w)),
      )
      .slice(0, query.limit);
  }
  async recordSearch(counts: SearchCounts) {
    this.searches.push(counts);
  }
  async learn(lessons: LearnedLesson[]) {
    this.learned.push(lessons);
    return lessons.map((l, i) => ({ ...lesson(`les_new${i}`, l.kind, l.text), evidence: l.evidence }));
  }
}

const distilled = (lessons: unknown[]) => ({ args: { lessons } });
const lessonsOn = { lessons: { use: true, learn: true, promptTokens: 600 } };

describe('lessons in a run (in-memory ports)', () => {
  const pitfall = lesson(
    'les_pitfall',
    'pitfall',
    'Logistic regression crashes with a shapes mismatch without the bias column.',
  );
  const setting = lesson(
    'les_setting',
    'setting',
    'A learning rate of 1.0 worked for logistic regression on scaled features.',
  );
  const unrelated = lesson('les_other', 'technique', 'Antithetic variates halve Monte Carlo variance.');

  it('puts relevant lessons into ideation, draft, debug and tuning prompts, cites their ids, and says so in events and the paper', async () => {
    const library = new MemoryLibrary([pitfall, setting, unrelated]);
    const { llm, sink, run } = setup(replies(), { input: lessonsOn, lessons: library });
    expect((await run()).status).toBe('succeeded');
    const prompt = (tool: string) => llm.calls.find((c) => c.tools[0]!.name === tool)!.prompt;
    expect(prompt('propose_ideas')).toContain('[les_pitfall]');
    expect(prompt('draft_experiment')).toContain('[les_pitfall]');
    expect(prompt('debug_experiment')).toContain('[les_pitfall]');
    expect(prompt('debug_experiment')).not.toContain('[les_setting]');
    expect(prompt('tune_experiment')).toContain('[les_setting]');
    for (const call of llm.calls) expect(call.prompt).not.toContain('les_other');
    const applied = sink.ofType('lessons.applied').map((e) => e.data as { step: string; lessonIds: string[] });
    expect(applied.map((a) => a.step)).toEqual(expect.arrayContaining(['ideation']));
    expect(applied.flatMap((a) => a.lessonIds)).toEqual(expect.arrayContaining(['les_pitfall', 'les_setting']));
    const tex = sink.artifacts.get('paper/paper.tex')!.toString();
    expect(tex).toContain('\\path{les_pitfall}');
    const manifest = JSON.parse(sink.artifacts.get('manifest.json')!.toString());
    expect(manifest.lessonsApplied.map((l: { id: string }) => l.id)).toEqual(expect.arrayContaining(['les_pitfall']));
  });

  it('distils lessons at the end with evidence from the recorded nodes, dropping what the nodes do not show', async () => {
    const library = new MemoryLibrary([]);
    const { sink, run } = setup(
      replies({
        record_lessons: [
          distilled([
            {
              kind: 'pitfall',
              text: 'The first draft crashed on a shape mismatch; the fix aligned the shapes.',
              tags: ['lib:numpy'],
              cites: ['n002'],
              relation: null,
            },
            {
              kind: 'technique',
              text: 'Claims an improvement that no node measured at all.',
              tags: [],
              cites: ['n002', 'n999'],
              relation: null,
            },
            {
              kind: 'setting',
              text: 'A tuned learning rate is recorded by the tuning node.',
              tags: [],
              cites: ['n003'],
              relation: { lessonId: 'les_of_another_tenant', stance: 'supports' },
            },
          ]),
        ],
      }),
      { input: lessonsOn, lessons: library },
    );
    expect((await run()).status).toBe('succeeded');
    expect(library.learned).toHaveLength(1);
    const [pit, set] = library.learned[0]!;
    expect(library.learned[0]).toHaveLength(2);
    expect(pit).toMatchObject({ kind: 'pitfall', relation: null });
    expect(pit!.evidence).toEqual([
      expect.objectContaining({
        runId: 'run_test',
        nodeId: 'n002',
        parentNodeId: 'n001',
        after: 0.5,
        results: 'nodes/n002/results.json',
      }),
    ]);
    expect(pit!.evidence[0]!.error).toMatch(/shapes do not align|exit/);
    // A relation to a lesson the step was not shown is ignored.
    expect(set!.relation).toBeNull();
    // The search counts of the run went to the tenant's statistics: n001 a draft that crashed, n002 its fix.
    expect(library.searches).toHaveLength(1);
    expect(library.searches[0]).toMatchObject({ drafts: 1, draftsWorked: 0, debugs: { 1: 1 }, debugsFixed: { 1: 1 } });
    const learned = sink.ofType('lessons.learned')[0]!.data as { created: string[]; dropped: number };
    expect(learned.dropped).toBe(1);
    expect(learned.created).toHaveLength(2);
  });

  it('distils a failed run too', async () => {
    const failing = setup(replies({ draft_experiment: [submit('crash')], debug_experiment: [submit('crash')] }), {
      input: {
        ...lessonsOn,
        maxIterations: 3,
        policy: {
          ...setup(replies()).input.policy,
          search: { numDrafts: 1, debugProb: 1, maxDebugDepth: 2, nodeConcurrency: 1 },
        },
      },
      lessons: new MemoryLibrary([]),
    });
    const outcome = await failing.run();
    expect(outcome.status).toBe('failed');
    expect(failing.llm.tools()).toContain('record_lessons');
  });

  for (const [reason, distils] of [
    ['cancel', true],
    ['time_limit', true],
    ['shutdown', false],
  ] as const) {
    it(`${distils ? 'distils' : 'does not distil'} a run stopped by "${reason}"`, async () => {
      const library = new MemoryLibrary([]);
      const { llm, sink, run } = setup(replies(), { input: lessonsOn, lessons: library });
      const controller = new AbortController();
      const emit = sink.emit.bind(sink);
      sink.emit = async (event) => {
        await emit(event);
        if (event.type === 'node.finished') controller.abort(reason);
      };
      expect((await run(controller.signal)).status).toBe('interrupted');
      expect(llm.tools().includes('record_lessons')).toBe(distils);
      // A run handed to another worker has not ended: its counts are added when it does, once.
      expect(library.searches).toHaveLength(distils ? 1 : 0);
    });
  }

  it('goes on without lessons when the library cannot be read, says so once and stops asking', async () => {
    const library = new MemoryLibrary([pitfall]);
    let lookups = 0;
    library.find = async () => {
      lookups++;
      throw new Error('Redis is gone');
    };
    const { sink, run } = setup(replies(), { input: lessonsOn, lessons: library });
    expect((await run()).status).toBe('succeeded');
    const warnings = sink.ofType('warning').filter((e) => (e.data as { code: string }).code === 'lessons_unavailable');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/Redis is gone/);
    // Ideation's lookup failed; no later step waited on the library again (the distillation's own lookup aside).
    expect(lookups).toBe(2);
  });

  it('neither reads nor writes lessons when the run opts out', async () => {
    const library = new MemoryLibrary([pitfall]);
    const { llm, run } = setup(replies(), {
      input: { lessons: { use: false, learn: false, promptTokens: 600 } },
      lessons: library,
    });
    await run();
    expect(library.queries).toEqual([]);
    expect(library.learned).toEqual([]);
    expect(library.searches).toEqual([]);
    expect(llm.tools()).not.toContain('record_lessons');
    for (const call of llm.calls) expect(call.prompt).not.toContain('les_pitfall');
  });
});
