import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeTokens, cosineSimilarity, mostSimilar, tokenSetSimilarity } from './novelty.js';

const program = 'def pack(n):\n    r = 0.5 * n  # half\n    return r ** 2\n';

describe('codeTokens', () => {
  it('keeps identifiers, numbers and operators and drops comments and whitespace', () => {
    expect(codeTokens(program)).toEqual([
      'def',
      'pack',
      '(',
      'n',
      ')',
      ':',
      'r',
      '=',
      '0.5',
      '*',
      'n',
      'return',
      'r',
      '**',
      '2',
    ]);
    expect(codeTokens('x += 1e-3 // note\ny /* block */ -> z')).toEqual(['x', '+=', '1e-3', 'y', '->', 'z']);
  });
});

describe('tokenSetSimilarity', () => {
  it('is 1 for programs that differ only in whitespace and comments', () => {
    const reformatted = 'def pack( n ):\n  # a different comment\n  r = 0.5*n\n  return r**2';
    expect(tokenSetSimilarity(program, reformatted)).toBe(1);
  });

  it('tells apart a changed constant even when the new one occurs elsewhere', () => {
    const a = 'x = 1\ny = 2\n';
    const b = 'x = 2\ny = 2\n';
    expect(tokenSetSimilarity(a, b)).toBeLessThan(1);
    expect(tokenSetSimilarity(a, b)).toBeGreaterThan(0);
  });

  it('gives the figures its doc comment quotes for a 300-token program', () => {
    const packing = readFileSync(new URL('../fixtures/circle-packing.py', import.meta.url), 'utf8');
    expect(codeTokens(packing)).toHaveLength(298);
    const changed = (from: string, to: string) => tokenSetSimilarity(packing, packing.replace(from, to));
    expect(changed('0.3 * np.cos', '0.35 * np.cos')).toBeCloseTo(0.987, 3);
    const three = packing.replace('range(8)', 'range(10)').replace('i / 8', 'i / 10').replace('range(16)', 'range(15)');
    expect(tokenSetSimilarity(packing, three)).toBeCloseTo(0.96, 3);
    const loop = '    for _ in range(50):\n        radii = refine(centers, radii)\n    return radii\n';
    expect(changed('    return radii\n', loop)).toBeCloseTo(0.943, 3);
  });

  it('is 0 for nothing in common, and 1 for two empty programs', () => {
    expect(tokenSetSimilarity('a b', 'c d')).toBe(0);
    expect(tokenSetSimilarity('', '# only a comment')).toBe(1);
    expect(tokenSetSimilarity('', 'x')).toBe(0);
  });

  it('property: symmetric, in [0, 1], and 1 with itself', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const s = tokenSetSimilarity(a, b);
        expect(s).toBe(tokenSetSimilarity(b, a));
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
        expect(tokenSetSimilarity(a, a)).toBe(1);
      }),
    );
  });
});

describe('cosineSimilarity', () => {
  it('measures the angle, 0 for vectors of different lengths', () => {
    expect(cosineSimilarity([1, 0], [2, 0])).toBe(1);
    expect(cosineSimilarity([1, 0], [0, 3])).toBe(0);
    expect(cosineSimilarity([1, 1], [-1, -1])).toBeCloseTo(-1);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
    expect(cosineSimilarity([1], [1, 2])).toBe(0);
  });
});

describe('mostSimilar', () => {
  it('uses embeddings when both sides have them and tokens otherwise', () => {
    const existing = [
      { id: 'c1', text: 'x = 1', vector: [1, 0] },
      { id: 'c2', text: program },
    ];
    expect(mostSimilar(program, existing)).toEqual({ id: 'c2', similarity: 1, measure: 'tokens' });
    expect(mostSimilar('y = 2', existing, [1, 0.01])).toMatchObject({ id: 'c1', measure: 'embedding' });
    expect(mostSimilar('x = 1', [{ id: 'c3', text: 'x = 1', vector: [1, 2, 3] }], [1, 0])).toMatchObject({
      similarity: 1,
      measure: 'tokens',
    });
    expect(mostSimilar(program, [])).toBeNull();
  });
});
