import { describe, expect, it } from 'vitest';
import type { ExperimentNode, ResearchPlan } from './journal.js';
import { describeGain, startingCodeGain, startingCodeName } from './starting-code-gain.js';

const plan = { metric: { name: 'accuracy', direction: 'maximize' } } as ResearchPlan;
const node = (id: string, primary: number) =>
  ({ id, primary, buggy: false, operator: 'draft', preferred: false }) as ExperimentNode;

describe('the gain over the starting code', () => {
  it("names a template's baseline as such, and the user's own program as theirs", () => {
    const nodes = [node('n001', 0.8), node('n002', 0.9)];
    const fromTemplate = startingCodeGain(plan, nodes, 'n001', 'tabular')!;
    expect(fromTemplate).toMatchObject({ template: 'tabular', startValue: 0.8, bestValue: 0.9, improved: true });
    expect(startingCodeName(fromTemplate)).toBe("the tabular template's baseline");
    expect(describeGain(fromTemplate)).toBe(
      "accuracy 0.8 (n001, the tabular template's baseline) → 0.9 (n002): +0.1 (+12.5%), better",
    );
    const own = startingCodeGain(plan, nodes, 'n001')!;
    expect(startingCodeName(own)).toBe("the user's starting code");
    expect(startingCodeGain(plan, nodes, null)).toBeNull();
  });
});
