import { describe, expect, it } from 'vitest';
import { choosePatchType } from './patch-type.js';
import { SeededRng } from './rng.js';

const tally = (draw: () => string, n = 10_000) => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const type = draw();
    counts[type] = (counts[type] ?? 0) + 1 / n;
  }
  return counts;
};

describe('choosePatchType', () => {
  it('draws each kind in proportion to its weight', () => {
    const rng = SeededRng.fromSeed(11);
    const share = tally(() => choosePatchType({ diff: 0.6, rewrite: 0.3, crossover: 0.1 }, rng, true));
    expect(share.diff).toBeCloseTo(0.6, 1);
    expect(share.rewrite).toBeCloseTo(0.3, 1);
    expect(share.crossover).toBeCloseTo(0.1, 1);
  });

  it('leaves out crossover without a second parent and kinds weighted 0, and falls back to diff', () => {
    const rng = SeededRng.fromSeed(12);
    const share = tally(() => choosePatchType({ rewrite: 1, crossover: 3 }, rng, false), 1000);
    expect(share).toEqual({ rewrite: expect.closeTo(1, 6) });
    expect(choosePatchType({ crossover: 1 }, rng, false)).toBe('diff');
    expect(choosePatchType({}, rng, true)).toBe('diff');
  });
});
