import { describe, expect, it } from 'vitest';
import type { ExperimentNode, ResearchPlan } from './journal.js';
import { Idea, PaperSections } from './persisted-shapes.js';
import { type JournalView, reviewPrompt, revisePrompt, stepPrompt } from './prompts.js';
import { type Review, TOOLS } from './tools.js';

/**
 * Prompts are ordered static-first so that providers' prefix caches serve what consecutive calls share: these pin
 * the order of the prompts that are sent most often.
 */

const PLAN: ResearchPlan = {
  title: 'Feature scaling and gradient descent',
  hypothesis: 'Standardized features let batch gradient descent converge in fewer epochs.',
  metric: { name: 'epochs_to_converge', direction: 'minimize', description: 'Epochs until the loss changes < 1e-4.' },
  plan: 'Train logistic regression on synthetic data with and without standardization; compare epochs.',
};

const CODE = `import json, os\nimport numpy as np\n${'x = np.random.default_rng(0).normal(size=(200, 5))\n'.repeat(30)}json.dump({"epochs_to_converge": 12}, open("results.json", "w"))\n`;

function node(id: string, primary: number | null, overrides: Partial<ExperimentNode> = {}): ExperimentNode {
  return {
    id,
    parentId: null,
    operator: 'draft',
    stage: 'research',
    iteration: Number(id.slice(1)),
    plan: `plan of ${id}`,
    code: `${CODE}# ${id}\n`,
    buggy: primary === null,
    exitCode: primary === null ? 1 : 0,
    timedOut: false,
    outOfMemory: false,
    durationMs: 1000,
    metrics: primary === null ? {} : { epochs_to_converge: primary },
    primary,
    error: primary === null ? 'exit code 1' : null,
    analysis: null,
    stdoutTail: '',
    stderrTail: primary === null ? 'Traceback: ValueError' : '',
    debugDepth: 0,
    figures: [],
    preferred: false,
    skippedOutputs: null,
    ...overrides,
  };
}

const view = (nodes: ExperimentNode[], left: number, hints: string[] = []): JournalView => ({
  goal: 'How does standardizing the features affect convergence?',
  plan: PLAN,
  nodes,
  insights: ['Scaling cut epochs from 40 to 12.'],
  stage: 'research',
  stageExperimentsLeft: left,
  hints,
});

function sharedPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

describe('prompt order (static first, for prefix caches)', () => {
  const best = node('n002', 12);
  const before = [node('n001', 40), best];
  const after = [...before, node('n003', 15), node('n004', null)];

  it('two improve steps from the same best program share the plan and that program, up to the journal', () => {
    const first = stepPrompt(view(before, 4), 'improve', best);
    const second = stepPrompt(view(after, 2, ['try a smaller learning rate']), 'improve', best);
    const shared = sharedPrefix(first, second);
    expect(shared).toContain(PLAN.plan);
    expect(shared).toContain(best.code);
    expect(shared).toContain('What we have learned:');
    expect(shared.length).toBeGreaterThanOrEqual(2000);
    // Counts, hints and the latest experiments come after it.
    expect(second.indexOf('2 experiment(s) left')).toBeGreaterThan(second.indexOf(best.code));
    expect(second.indexOf('try a smaller learning rate')).toBeGreaterThan(second.indexOf('Most recent experiments'));
    expect(second.trimEnd().endsWith('call finish_stage instead.')).toBe(true);
  });

  it('two draft steps share everything up to what the experiments since have changed', () => {
    const first = stepPrompt(view([], 3), 'draft', null);
    const second = stepPrompt(view([node('n001', 40)], 2, ['keep it small']), 'draft', null);
    const shared = sharedPrefix(first, second);
    expect(shared).toContain(`Current stage: research`);
    expect(shared).toContain(PLAN.plan);
    expect(first.indexOf('3 experiment(s) left')).toBeGreaterThan(first.indexOf('Current stage'));
  });

  it('a debug step puts the failed program before the journal, and the task last', () => {
    const failed = node('n004', null);
    const prompt = stepPrompt(view(after, 2), 'debug', failed);
    expect(prompt.indexOf(failed.code)).toBeLessThan(prompt.indexOf('What we have learned:'));
    expect(prompt.trimEnd().endsWith('change what broke).')).toBe(true);
  });

  it('every reviewer gets the same paper first; who reviews comes after it', () => {
    const paper = '\\section{Introduction} '.repeat(200);
    const one = reviewPrompt(paper, 1, 'soundness');
    const two = reviewPrompt(paper, 2, 'clarity');
    expect(sharedPrefix(one, two)).toContain(paper);
  });

  it('a revision puts the sections before the meta-review', () => {
    const sections = { title: 'T', abstract: 'A' } as PaperSections;
    const meta = { summary: 'S', weaknesses: ['W'], questions: ['Q'] } as Review;
    const prompt = revisePrompt(sections, meta);
    expect(prompt.indexOf('"abstract"')).toBeLessThan(prompt.indexOf('The meta-review'));
  });
});

describe('persisted shapes and tool limits', () => {
  it('keeps a checkpoint readable whatever limits the tools ask the model for', () => {
    const long = 'x'.repeat(20_000);
    const sections = Object.fromEntries(Object.keys(PaperSections.shape).map((key) => [key, long]));
    expect(TOOLS.paper.schema.safeParse(sections).success).toBe(false);
    expect(PaperSections.safeParse(sections).success).toBe(true);
    const idea = {
      title: long,
      hypothesis: long,
      experiments: long,
      metric: { name: 'loss', direction: 'minimize', description: 'loss' },
      interestingness: 11,
      feasibility: 0,
      novelty: 5,
      search_queries: ['a', 'b', 'c', 'd'],
    };
    expect(TOOLS.ideas.schema.safeParse({ ideas: [idea] }).success).toBe(false);
    expect(Idea.safeParse(idea).success).toBe(true);
  });
});
