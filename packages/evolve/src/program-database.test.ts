import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { type Candidate, type CandidateStatus, isEligible, ProgramDatabase } from './program-database.js';
import { SeededRng } from './rng.js';

let next = 0;
const candidate = (over: Partial<Candidate> = {}): Candidate => ({
  id: `c${String(next++).padStart(4, '0')}`,
  generation: 0,
  island: 0,
  parentIds: [],
  patchType: 'diff',
  model: 'gpt-a',
  status: 'evaluated',
  score: 1,
  metrics: {},
  error: null,
  children: 0,
  ...over,
});

describe('ProgramDatabase', () => {
  it('keeps incorrect, failed and rejected candidates with their errors but never as elites or parents', () => {
    const db = ProgramDatabase.create({ islands: 1, direction: 'maximize' });
    const good = candidate({ score: 0.5 });
    db.add(good);
    db.add(candidate({ status: 'incorrect', score: 99, error: 'circles overlap' }));
    db.add(candidate({ status: 'failed', score: null, error: 'timed out after 60 s' }));
    db.add(candidate({ status: 'rejected', score: null, error: 'similarity 0.99 to c0000' }));
    expect(db.elites().map((c) => c.id)).toEqual([good.id]);
    expect(db.best()?.id).toBe(good.id);
    expect(db.candidates().find((c) => c.status === 'incorrect')?.error).toBe('circles overlap');
    expect(db.counts()).toEqual({ evaluated: 1, incorrect: 1, failed: 1, rejected: 1 });
    const rng = SeededRng.fromSeed(1);
    for (let i = 0; i < 50; i++) expect(db.sampleParent(0, rng)?.id).toBe(good.id);
  });

  it('stores scores and metrics as JSON keeps them', () => {
    const db = ProgramDatabase.create({ islands: 1, direction: 'maximize' });
    db.add(candidate({ id: 'z', score: -0, metrics: { a: -0, b: Number.POSITIVE_INFINITY, c: Number.NaN, d: 2 } }));
    expect(Object.is(db.get('z')!.score, 0)).toBe(true);
    expect(db.get('z')!.metrics).toEqual({ a: 0, d: 2 });
    expect(ProgramDatabase.fromJSON(JSON.parse(JSON.stringify(db))).toJSON()).toEqual(db.toJSON());
  });

  it('keeps the extra fields of a richer record and seeds the initial program, written by no model', () => {
    type Record = Candidate & { summary: string; durationMs: number };
    const db = ProgramDatabase.create<Record>({ islands: 2, direction: 'maximize' });
    db.seed({
      ...candidate({ id: 'root', patchType: 'initial', model: null }),
      summary: 'as uploaded',
      durationMs: 812,
    });
    const copy = ProgramDatabase.fromJSON<Record>(JSON.parse(JSON.stringify(db)));
    expect(copy.best()).toMatchObject({
      id: 'root',
      patchType: 'initial',
      model: null,
      summary: 'as uploaded',
      durationMs: 812,
    });
    expect(copy.islandMembers(1).map((c) => c.summary)).toEqual(['as uploaded']);
  });

  it('checks a checkpointed state when it is read back', () => {
    expectTypeOf<Pick<z.infer<typeof Candidate>, keyof Candidate>>().toEqualTypeOf<Candidate>();
    const db = ProgramDatabase.create({ islands: 2, direction: 'maximize' });
    db.seed(candidate({ id: 'root' }));
    const state = JSON.parse(JSON.stringify(db));
    const { lastMigration: _, ...older } = state;
    expect(ProgramDatabase.fromJSON(older).toJSON().lastMigration).toBe(0);
    expect(() => ProgramDatabase.fromJSON({ ...state, version: 2 })).toThrow();
    expect(() => ProgramDatabase.fromJSON({ ...state, candidates: [{ id: 'x' }] })).toThrow();
    expect(() => ProgramDatabase.fromJSON({ ...state, archive: ['ghost'] })).toThrow(
      /candidate ghost it does not hold/,
    );
  });

  it('refuses a duplicate id, an unknown island and an evaluated candidate without a score', () => {
    const db = ProgramDatabase.create({ islands: 2, direction: 'maximize' });
    const c = candidate();
    db.add(c);
    expect(() => db.add(c)).toThrow(/already/);
    expect(() => db.add(candidate({ island: 2 }))).toThrow(/island 2 does not exist/);
    expect(() => db.add(candidate({ score: null }))).toThrow(/no finite score/);
    expect(() => db.add(candidate({ score: Number.NaN }))).toThrow(/no finite score/);
  });

  it('keeps the top archiveSize correct candidates over all islands, best first, for both directions', () => {
    const scores = [3, 1, 4, 1, 5, 9, 2, 6];
    for (const direction of ['maximize', 'minimize'] as const) {
      const db = ProgramDatabase.create({ islands: 3, direction, archiveSize: 3 });
      scores.forEach((score, i) => {
        db.add(candidate({ score, island: i % 3 }));
      });
      const sorted = [...scores].sort((a, b) => (direction === 'maximize' ? b - a : a - b));
      expect(db.elites().map((c) => c.score)).toEqual(sorted.slice(0, 3));
    }
  });

  it('weights parents by rank and by children as documented', () => {
    const db = ProgramDatabase.create({ islands: 1, direction: 'maximize', lambda: 10 });
    const [low, mid, high] = [candidate({ score: 1 }), candidate({ score: 2 }), candidate({ score: 3 })];
    for (const c of [low!, mid!, high!]) db.add(c);
    db.recordChild(high!.id);
    const weights = Object.fromEntries(db.parentWeights(0).map((w) => [w.candidate.id, w]));
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    expect(weights[low!.id]).toMatchObject({ rank: 0, weight: sigmoid(-5) });
    expect(weights[mid!.id]).toMatchObject({ rank: 0.5, weight: 0.5 });
    expect(weights[high!.id]!.rank).toBe(1);
    expect(weights[high!.id]!.weight).toBeCloseTo(sigmoid(5) / 2);
  });

  it('samples parents in proportion to their weights', () => {
    const db = ProgramDatabase.create({ islands: 1, direction: 'minimize', lambda: 4 });
    for (const score of [0.1, 0.2, 0.3, 0.4]) db.add(candidate({ score }));
    const weights = db.parentWeights(0);
    const total = weights.reduce((s, w) => s + w.weight, 0);
    const rng = SeededRng.fromSeed(3);
    const drawn = new Map<string, number>();
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const id = db.sampleParent(0, rng)!.id;
      drawn.set(id, (drawn.get(id) ?? 0) + 1);
    }
    for (const w of weights) expect((drawn.get(w.candidate.id) ?? 0) / draws).toBeCloseTo(w.weight / total, 1);
    expect(weights[0]!.rank).toBe(1); // minimize: the lowest score ranks best
  });

  it('returns no parent for an island without a correct candidate, and seeds every island with the initial program', () => {
    const db = ProgramDatabase.create({ islands: 3, direction: 'maximize' });
    const rng = SeededRng.fromSeed(1);
    expect(db.sampleParent(1, rng)).toBeNull();
    const root = candidate();
    db.seed(root);
    for (let island = 0; island < 3; island++) expect(db.sampleParent(island, rng)?.id).toBe(root.id);
    expect(db.elites()).toHaveLength(1);
  });

  it('gives inspirations: the island best, then elites of other islands, never the excluded parent', () => {
    const db = ProgramDatabase.create({ islands: 3, direction: 'maximize' });
    const a = candidate({ island: 0, score: 5 });
    const b = candidate({ island: 0, score: 4 });
    const c = candidate({ island: 1, score: 7 });
    const d = candidate({ island: 2, score: 6 });
    for (const x of [a, b, c, d]) db.add(x);
    const rng = SeededRng.fromSeed(9);
    const got = db.inspirations(0, 3, rng, [a.id]);
    expect(got[0]!.id).toBe(b.id);
    expect(new Set(got.slice(1).map((x) => x.id))).toEqual(new Set([c.id, d.id]));
    expect(db.inspirations(0, 1, rng).map((x) => x.id)).toEqual([a.id]);
    expect(db.inspirations(0, 0, rng)).toEqual([]);
  });

  it('draws a crossover mate from the elites other islands hold, else from its own, never the parent', () => {
    const db = ProgramDatabase.create({ islands: 2, direction: 'maximize' });
    const root = candidate({ id: 'root', score: 1 });
    db.seed(root);
    const rng = SeededRng.fromSeed(4);
    expect(db.sampleMate(0, 'root', rng)).toBeNull();
    const own = candidate({ island: 0, score: 2 });
    db.add(own);
    expect(db.sampleMate(0, 'root', rng)?.id).toBe(own.id);
    const away = [candidate({ island: 1, score: 3 }), candidate({ island: 1, score: 0.5 })];
    for (const c of away) db.add(c);
    const drawn = new Set(Array.from({ length: 50 }, () => db.sampleMate(0, own.id, rng)?.id));
    expect(drawn).toEqual(new Set(away.map((c) => c.id)));
  });

  it('migrates each island’s best to its ring neighbour at the interval, once', () => {
    const db = ProgramDatabase.create({ islands: 3, direction: 'maximize' });
    const best = [candidate({ island: 0, score: 1 }), candidate({ island: 1, score: 2 })];
    for (const c of best) db.add(c);
    db.add(candidate({ island: 2, status: 'incorrect', score: null }));
    expect(db.migrate(3, 5)).toEqual([]);
    expect(db.migrate(0, 5)).toEqual([]);
    expect(db.migrate(5, 5)).toEqual([
      { candidateId: best[0]!.id, from: 0, to: 1, score: 1 },
      { candidateId: best[1]!.id, from: 1, to: 2, score: 2 },
    ]);
    expect(db.migrate(5, 5)).toEqual([]);
    expect(db.islandMembers(2).map((c) => c.id)).toContain(best[1]!.id);
    expect(db.get(best[1]!.id)!.island).toBe(1);
    // Island 1 now holds island 0's best, but its own is better: that is what moves on next time.
    expect(db.migrate(10, 5)).toEqual([{ candidateId: best[1]!.id, from: 2, to: 0, score: 2 }]);
  });

  it('follows the first parents up to the root and says who improved on their parent', () => {
    const db = ProgramDatabase.create({ islands: 1, direction: 'maximize' });
    const root = candidate({ score: 1 });
    const child = candidate({ parentIds: [root.id], generation: 1, score: 2 });
    const other = candidate({ parentIds: [root.id], generation: 1, score: 0.5 });
    const grandchild = candidate({ parentIds: [child.id, other.id], generation: 2, patchType: 'crossover', score: 3 });
    for (const c of [root, child, other, grandchild]) db.add(c);
    expect(db.lineage(grandchild.id)).toEqual([grandchild.id, child.id, root.id]);
    expect(db.lineage('missing')).toEqual([]);
    expect(db.improvesOnParent(child)).toBe(true);
    expect(db.improvesOnParent(other)).toBe(false);
    expect(db.improvesOnParent(root)).toBe(false);
  });

  it('reports the best so far for every generation, null before the first correct one', () => {
    const db = ProgramDatabase.create({ islands: 1, direction: 'minimize' });
    db.add(candidate({ generation: 0, status: 'incorrect', score: null }));
    const g1 = candidate({ generation: 1, score: 5 });
    db.add(g1);
    db.add(candidate({ generation: 3, score: 7 }));
    expect(db.bestByGeneration()).toEqual([
      { generation: 0, candidateId: null, score: null },
      { generation: 1, candidateId: g1.id, score: 5 },
      { generation: 2, candidateId: g1.id, score: 5 },
      { generation: 3, candidateId: g1.id, score: 5 },
    ]);
  });

  type Op = {
    generation: number;
    island: number;
    status: CandidateStatus;
    score: number;
    children: number;
    migrateAt: number | null;
  };
  const operations: fc.Arbitrary<Op[]> = fc.array(
    fc.record({
      generation: fc.nat({ max: 8 }),
      island: fc.nat({ max: 2 }),
      status: fc.constantFrom<CandidateStatus>('evaluated', 'evaluated', 'incorrect', 'failed', 'rejected'),
      score: fc.double({ min: -100, max: 100, noNaN: true }),
      children: fc.nat({ max: 3 }),
      migrateAt: fc.option(fc.nat({ max: 8 })),
    }),
    { maxLength: 40 },
  );
  const build = (ops: Op[], direction: 'maximize' | 'minimize') => {
    const db = ProgramDatabase.create({ islands: 3, direction, archiveSize: 4 });
    for (const op of ops) {
      db.add(
        candidate({
          generation: op.generation,
          island: op.island,
          status: op.status,
          score: op.status === 'evaluated' || op.status === 'incorrect' ? op.score : null,
        }),
      );
      for (let i = 0; i < op.children; i++) db.recordChild(db.candidates()[db.size - 1]!.id);
      if (op.migrateAt !== null) db.migrate(op.migrateAt, 2);
    }
    return db;
  };
  const direction = fc.constantFrom<'maximize' | 'minimize'>('maximize', 'minimize');

  it('property: the best so far never gets worse, incorrect is never elite, sampling returns only correct ones', () => {
    fc.assert(
      fc.property(operations, direction, fc.integer(), (ops, dir, seed) => {
        const db = build(ops, dir);
        const scores = db
          .bestByGeneration()
          .map((row) => row.score)
          .filter((s) => s !== null);
        for (let i = 1; i < scores.length; i++) expect(db.isBetter(scores[i - 1]!, scores[i]!)).toBe(false);
        for (const elite of db.elites()) expect(isEligible(elite)).toBe(true);
        const rng = SeededRng.fromSeed(seed);
        for (let island = 0; island < 3; island++) {
          for (let i = 0; i < 5; i++) {
            const parent = db.sampleParent(island, rng);
            if (parent) expect(parent.status).toBe('evaluated');
            else expect(db.islandMembers(island).some(isEligible)).toBe(false);
          }
        }
        const eligible = db.candidates().filter(isEligible);
        const best = db.best();
        if (best) for (const c of eligible) expect(db.isBetter(c.score!, best.score!)).toBe(false);
        else expect(eligible).toEqual([]);
      }),
    );
  });

  it('property: a JSON round trip keeps the state and the sampling sequence', () => {
    fc.assert(
      fc.property(operations, direction, fc.integer(), (ops, dir, seed) => {
        const db = build(ops, dir);
        const copy = ProgramDatabase.fromJSON(JSON.parse(JSON.stringify(db)));
        expect(copy.toJSON()).toEqual(db.toJSON());
        const [r1, r2] = [SeededRng.fromSeed(seed), SeededRng.fromSeed(seed)];
        for (let i = 0; i < 5; i++) expect(copy.sampleParent(i % 3, r2)?.id).toBe(db.sampleParent(i % 3, r1)?.id);
        copy.add(candidate());
        expect(copy.size).toBe(db.size + 1);
      }),
    );
  });
});

describe('parentWeights', () => {
  it('property: the rank is 1 − (strictly better ones) / (n − 1), ties sharing it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 30 }),
        fc.constantFrom<'maximize' | 'minimize'>('maximize', 'minimize'),
        (scores, direction) => {
          const db = ProgramDatabase.create({ islands: 1, direction });
          for (const score of scores) db.add(candidate({ score }));
          for (const { candidate: c, rank } of db.parentWeights(0)) {
            const better = scores.filter((s) => db.isBetter(s, c.score!)).length;
            expect(rank).toBe(scores.length === 1 ? 1 : 1 - better / (scores.length - 1));
          }
        },
      ),
    );
  });

  it('samples from a large island quickly', () => {
    const db = ProgramDatabase.create({ islands: 1, direction: 'maximize' });
    for (let i = 0; i < 5000; i++) db.add(candidate({ score: i % 97 }));
    const rng = SeededRng.fromSeed(5);
    const started = performance.now();
    for (let i = 0; i < 20; i++) db.sampleParent(0, rng);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
