import type { RunRecord } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { resultRows, settingsRows } from './compare.js';

const record = (over: Partial<RunRecord>): RunRecord =>
  ({
    id: 'run_a',
    goal: 'g',
    status: 'succeeded',
    stage: 'done',
    iteration: 5,
    maxIterations: 5,
    model: 'demo',
    models: { code: 'demo', judge: 'demo', writeup: 'demo', review: 'demo', ideas: 'demo', vision: null },
    budgetUsd: null,
    timeLimitMinutes: 60,
    sandbox: { cpus: 1, memoryMb: 2048, execTimeoutSeconds: 300, image: 'python' },
    policy: {
      maxTokens: null,
      search: { numDrafts: 1, debugProb: 0.5, maxDebugDepth: 3, nodeConcurrency: 1 },
      ideation: { numIdeas: 3, reflections: 1 },
      review: { reviewers: 3, revise: false },
      seeds: 3,
      pageLimit: 8,
    },
    usage: { calls: 20, promptTokens: 1000, completionTokens: 200, totalTokens: 1200, cachedTokens: 0, costUsd: 0 },
    bestMetric: { name: 'loss', value: 0.38, direction: 'minimize', nodeId: 'n004', iteration: 4 },
    review: { overall: 6, decision: 'accept', confidence: 4, reviewers: 3 },
    heldOut: null,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:02:30Z',
    ...over,
  }) as RunRecord;

describe('the compare view', () => {
  it('puts each setting of the runs side by side and marks those that differ', () => {
    const rows = settingsRows([
      record({}),
      record({ id: 'run_b', maxIterations: 8, models: { ...record({}).models, judge: 'other' } }),
    ]);
    const row = (label: string) => rows.find((r) => r.label === label)!;
    expect(row('Max iterations')).toEqual({ label: 'Max iterations', values: ['5', '8'], differs: true });
    expect(row('Model')).toEqual({ label: 'Model', values: ['demo', 'demo'], differs: false });
    expect(row('Models per role').values).toEqual(['vision off', 'judge other, vision off']);
    expect(row('Duration').values).toEqual(['2 min 30 s', '2 min 30 s']);
    expect(row('Sandbox').values[0]).toBe('python, 1 CPU, 2048 MB, 300 s');
  });

  it('shows the best node, metric and review of each', () => {
    const rows = resultRows([record({}), record({ bestMetric: null, review: null })]);
    expect(rows.find((r) => r.label === 'Best metric')).toEqual({
      label: 'Best metric',
      values: ['loss 0.38', '—'],
      differs: true,
    });
    expect(rows.find((r) => r.label === 'Best node')!.values).toEqual(['n004 (iteration 4)', '—']);
    expect(rows.find((r) => r.label === 'Review')!.values).toEqual(['6/10, accept', '—']);
  });
});
