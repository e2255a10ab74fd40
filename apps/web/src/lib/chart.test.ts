import { describe, expect, it } from 'vitest';
import { compareSeries, directionOf, metricSeries } from './chart.js';
import type { NodeOutcome } from './run-model.js';

const ok = (iteration: number, metrics: Record<string, number>): NodeOutcome => ({
  nodeId: `n00${iteration}`,
  iteration,
  failed: false,
  metrics,
});
const failed = (iteration: number): NodeOutcome => ({
  nodeId: `n00${iteration}`,
  iteration,
  failed: true,
  metrics: {},
});

describe('metric series', () => {
  it('keeps failed experiments on the axis, without a value, and the best so far across them', () => {
    const outcomes = [ok(2, { loss: 0.5, acc: 0.7 }), failed(1), failed(3), ok(4, { loss: 0.6 }), ok(5, { loss: 0.2 })];
    expect(metricSeries(outcomes, 'loss', 'minimize')).toEqual({
      iterations: [1, 2, 3, 4, 5],
      values: [null, 0.5, null, 0.6, 0.2],
      best: [null, 0.5, 0.5, 0.5, 0.2],
      nodeIds: ['n001', 'n002', 'n003', 'n004', 'n005'],
      failed: [
        { iteration: 1, nodeId: 'n001' },
        { iteration: 3, nodeId: 'n003' },
      ],
      missing: 0,
    });
  });

  it('charts any recorded metric; without a known direction there is no best-so-far line', () => {
    const s = metricSeries([ok(1, { loss: 0.5, acc: 0.7 }), ok(2, { loss: 0.4 })], 'acc', null);
    expect(s.values).toEqual([0.7, null]);
    expect(s.best).toEqual([null, null]);
    expect(s.missing).toBe(1);
    expect(metricSeries([ok(1, { acc: 0.7 }), ok(2, { acc: 0.9 })], 'acc', 'maximize').best).toEqual([0.7, 0.9]);
  });

  it('puts several runs on one iteration axis', () => {
    const a = [ok(1, { acc: 0.5 }), ok(3, { acc: 0.7 })];
    const b = [failed(1), ok(2, { acc: 0.6 })];
    expect(compareSeries([a, b], 'acc')).toEqual({
      iterations: [1, 2, 3],
      values: [
        [0.5, null, 0.7],
        [null, 0.6, null],
      ],
    });
  });

  it("knows the plan's direction and guesses common metric names", () => {
    const primary = { name: 'final_loss_standardized', direction: 'minimize' as const };
    expect(directionOf('final_loss_standardized', primary)).toBe('minimize');
    expect(directionOf('final_loss_raw', primary)).toBe('minimize');
    expect(directionOf('test_accuracy', primary)).toBe('maximize');
    expect(directionOf('condition_number', primary)).toBeNull();
  });
});
