import { EXPERIMENT_STAGES, type SearchPolicy } from '@autolab/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { experimentNode } from './testing/fakes.js';
import { chooseStep, STAGES, stageBudgets, stageComplete } from './tree-search.js';

const policy: SearchPolicy = { numDrafts: 2, debugProb: 0.5, maxDebugDepth: 3 } as SearchPolicy;

const node = experimentNode;

describe('stageBudgets', () => {
  it('splits the iterations by the stages’ shares', () => {
    expect(stageBudgets(20)).toEqual({ baseline: 7, tuning: 4, research: 6, ablation: 3 });
    expect(stageBudgets(1)).toEqual({ baseline: 1, tuning: 0, research: 0, ablation: 0 });
    expect(stageBudgets(0)).toEqual({ baseline: 0, tuning: 0, research: 0, ablation: 0 });
  });

  it('sums to the iterations, never goes negative, and gives the baseline at least one when there is one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), (iterations) => {
        const budgets = stageBudgets(iterations);
        const values = EXPERIMENT_STAGES.map((stage) => budgets[stage]);
        expect(values.reduce((a, b) => a + b, 0)).toBe(iterations);
        for (const value of values) expect(Number.isInteger(value) && value >= 0).toBe(true);
        if (iterations > 0) expect(budgets.baseline).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('gives tuning and ablation at most their rounded share (small runs give the rest to earlier stages)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), (iterations) => {
        const budgets = stageBudgets(iterations);
        for (const stage of ['tuning', 'ablation'] as const) {
          expect(budgets[stage]).toBeLessThanOrEqual(Math.round(iterations * STAGES[stage].share));
        }
      }),
    );
  });
});

describe('chooseStep', () => {
  it('drafts in the baseline until the policy’s drafts are made', () => {
    expect(chooseStep('baseline', [], policy, 'maximize', 0.9)).toEqual({ operator: 'draft', parent: null });
    const one = [node('n001')];
    expect(chooseStep('baseline', one, policy, 'maximize', 0.9)).toEqual({ operator: 'draft', parent: null });
    // Drafts of another stage do not count towards the baseline's.
    const elsewhere = [node('n001', { stage: 'tuning' }), node('n002', { stage: 'tuning' })];
    expect(chooseStep('baseline', elsewhere, policy, 'maximize', 0.9).operator).toBe('draft');
  });

  it('applies the stage’s operator to the best node once the drafts are made', () => {
    const nodes = [node('n001', { primary: 0.3 }), node('n002', { primary: 0.7 })];
    for (const stage of EXPERIMENT_STAGES) {
      const step = chooseStep(stage, nodes, policy, 'maximize', 0.9);
      expect(step).toEqual({ operator: STAGES[stage].operator, parent: nodes[1] });
    }
    expect(chooseStep('tuning', nodes, policy, 'minimize', 0.9).parent).toBe(nodes[0]);
  });

  it('debugs the newest fixable failure with probability debugProb, and always when nothing works', () => {
    const good = node('n001', { primary: 0.3 });
    const failed = node('n002', { buggy: true });
    const newer = node('n003', { buggy: true });
    const nodes = [good, failed, newer, node('n004', { stage: 'tuning', primary: 0.2 })];
    expect(chooseStep('tuning', nodes, policy, 'maximize', 0.49)).toEqual({ operator: 'debug', parent: newer });
    expect(chooseStep('tuning', nodes, policy, 'maximize', 0.5)).toEqual({ operator: 'hyperparameter', parent: good });
    const broken = [node('n001', { buggy: true }), node('n002', { buggy: true })];
    expect(chooseStep('research', broken, policy, 'maximize', 0.99)).toEqual({ operator: 'debug', parent: broken[1] });
  });

  it('drafts afresh when nothing works and no failure may be debugged any more', () => {
    const tooDeep = node('n001', { buggy: true, debugDepth: policy.maxDebugDepth });
    const fixed = node('n002', { buggy: true });
    const fixAttempt = node('n003', { buggy: true, parentId: 'n002', debugDepth: policy.maxDebugDepth });
    expect(chooseStep('research', [tooDeep, fixed, fixAttempt], policy, 'maximize', 0)).toEqual({
      operator: 'draft',
      parent: null,
    });
  });

  it('never improves an ablation: the best parent is a non-ablation node', () => {
    const nodes = [node('n001', { primary: 0.3 }), node('n002', { primary: 0.9, operator: 'ablation' })];
    expect(chooseStep('ablation', nodes, policy, 'maximize', 0.9)).toEqual({ operator: 'ablation', parent: nodes[0] });
  });

  it('always answers with a parent from the tree, a debug step only for a failed node', () => {
    const arbitraryNode = fc.record({ buggy: fc.boolean(), primary: fc.double({ min: -1, max: 1, noNaN: true }) });
    fc.assert(
      fc.property(
        fc.array(arbitraryNode, { maxLength: 12 }),
        fc.constantFrom(...EXPERIMENT_STAGES),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (specs, stage, random) => {
          const nodes = specs.map((s, i) => node(`n${i}`, { buggy: s.buggy, primary: s.buggy ? null : s.primary }));
          const step = chooseStep(stage, nodes, policy, 'maximize', random);
          if (step.parent === null) expect(step.operator).toBe('draft');
          else expect(nodes).toContain(step.parent);
          if (step.operator === 'debug') expect(step.parent?.buggy).toBe(true);
          else if (step.parent) expect(step.parent.buggy).toBe(false);
        },
      ),
    );
  });
});

describe('stageComplete', () => {
  it('ends a stage when its experiments are used, the baseline only once something works', () => {
    const failed = [node('n001', { buggy: true })];
    expect(stageComplete('tuning', 2, 3, failed)).toBe(false);
    expect(stageComplete('tuning', 3, 3, failed)).toBe(true);
    expect(stageComplete('baseline', 3, 3, failed)).toBe(false);
    expect(stageComplete('baseline', 3, 3, [...failed, node('n002')])).toBe(true);
  });
});
