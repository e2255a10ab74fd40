import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from './rng.js';

describe('SeededRng', () => {
  it('draws the same sequence after a JSON round trip of its state', () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat({ max: 50 }), (seed, skip) => {
        const rng = SeededRng.fromSeed(seed);
        for (let i = 0; i < skip; i++) rng.next();
        const resumed = SeededRng.fromJSON(JSON.parse(JSON.stringify(rng)));
        const expected = Array.from({ length: 10 }, () => rng.next());
        expect(Array.from({ length: 10 }, () => resumed.next())).toEqual(expected);
      }),
    );
  });

  it('refuses a state that is not one', () => {
    expect(() => SeededRng.fromJSON({ a: 1, b: 2, c: 3 })).toThrow();
    expect(() => SeededRng.fromJSON({ a: 1, b: 2, c: 3, d: -1 })).toThrow();
  });

  it('gives equal sequences for equal seeds and different ones for different seeds', () => {
    const draw = (seed: number) => {
      const rng = SeededRng.fromSeed(seed);
      return Array.from({ length: 5 }, () => rng.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('is roughly uniform in [0, 1)', () => {
    const rng = SeededRng.fromSeed(7);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const x = rng.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      buckets[Math.floor(x * 10)]!++;
    }
    for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });
});
