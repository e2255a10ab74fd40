import { describe, expect, it } from 'vitest';
import { bestSoFar, chartGeometry, integerTicks, linearScale, linePath, niceTicks } from './chart.js';

const pts = (...values: number[]) => values.map((value, i) => ({ iteration: i + 1, value, nodeId: `n${i + 1}` }));

describe('chart scaling', () => {
  it('maps linearly, inverted ranges included, and a flat domain to the middle', () => {
    const s = linearScale([0, 10], [100, 0]);
    expect(s(0)).toBe(100);
    expect(s(2.5)).toBe(75);
    expect(s(10)).toBe(0);
    expect(linearScale([3, 3], [0, 50])(3)).toBe(25);
  });

  it('makes round ticks that cover the data', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.812, 0.947, 4)).toEqual([0.8, 0.85, 0.9, 0.95]);
    expect(niceTicks(-3, 17, 4)).toEqual([-5, 0, 5, 10, 15, 20]);
    const flat = niceTicks(0.5, 0.5, 4);
    expect(flat[0]).toBeLessThan(0.5);
    expect(flat[flat.length - 1]).toBeGreaterThan(0.5);
    expect(niceTicks(Number.NaN, 1)).toEqual([]);
  });

  it('makes integer ticks for iterations', () => {
    expect(integerTicks(1, 5, 8)).toEqual([1, 2, 3, 4, 5]);
    expect(integerTicks(1, 40, 8)).toEqual([1, 6, 11, 16, 21, 26, 31, 36]);
  });

  it('keeps the best value so far in either direction', () => {
    expect(bestSoFar(pts(0.5, 0.7, 0.6, 0.9), 'maximize').map((p) => p.value)).toEqual([0.5, 0.7, 0.7, 0.9]);
    expect(bestSoFar(pts(3, 1, 2, 0.5), 'minimize').map((p) => [p.value, p.nodeId])).toEqual([
      [3, 'n1'],
      [1, 'n2'],
      [1, 'n2'],
      [0.5, 'n4'],
    ]);
    expect(bestSoFar(pts(3, 1, 2), 'minimize').map((p) => p.iteration)).toEqual([1, 2, 3]);
  });

  it('fits the points inside the plot area', () => {
    const size = { width: 400, height: 200, left: 40, right: 10, top: 10, bottom: 30 };
    const g = chartGeometry(pts(0.2, 0.9, 0.4), size);
    expect(g.x(1)).toBe(40);
    expect(g.x(3)).toBe(390);
    for (const v of [0.2, 0.9, 0.4]) {
      expect(g.y(v)).toBeGreaterThanOrEqual(10);
      expect(g.y(v)).toBeLessThanOrEqual(170);
    }
    const single = chartGeometry(pts(0.5), size);
    expect(Number.isFinite(single.y(0.5))).toBe(true);
    expect(Number.isFinite(single.x(1))).toBe(true);
  });

  it('draws straight and stepped paths', () => {
    const p = [
      { x: 0, y: 10 },
      { x: 5, y: 2.25 },
    ];
    expect(linePath(p)).toBe('M0 10 L5 2.3');
    expect(linePath(p, true)).toBe('M0 10 L5 10 L5 2.3');
    expect(linePath([])).toBe('');
  });
});
