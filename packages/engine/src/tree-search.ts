import type { ExperimentStage, MetricDirection, SearchPolicy } from '@autolab/contracts';
import { bestNode, debuggableLeaves, type ExperimentNode, goodNodes, type Operator, STAGE_ORDER } from './journal.js';

/**
 * How the experiment tree grows (AIDE / AI-Scientist-v2 style): four stages, each with a goal, the operator it
 * applies to the best node, and a share of the run's experiments. Inside a stage, each step drafts, debugs a
 * failed leaf or applies the stage's operator to the best node.
 */
export interface StageDefinition {
  stage: ExperimentStage;
  goal: string;
  /** What a non-debug step does in this stage once something works. */
  operator: Exclude<Operator, 'draft' | 'debug'>;
  /** Share of maxIterations; baseline may borrow from later stages until something works. */
  share: number;
}

export const STAGES: Record<ExperimentStage, StageDefinition> = {
  baseline: {
    stage: 'baseline',
    goal: 'Get a correct, working implementation of the experiment that reports the primary metric.',
    operator: 'improve',
    share: 0.35,
  },
  tuning: {
    stage: 'tuning',
    goal: 'Tune the hyperparameters of the best implementation (one well-motivated change at a time).',
    operator: 'hyperparameter',
    share: 0.2,
  },
  research: {
    stage: 'research',
    goal: "Carry out the idea's main experiments on top of the tuned implementation and strengthen the evidence.",
    operator: 'improve',
    share: 0.3,
  },
  ablation: {
    stage: 'ablation',
    goal: 'Remove or replace one component of the best solution per experiment to show what each contributes.',
    operator: 'ablation',
    share: 0.15,
  },
};

/** Experiments each stage may run, summing to maxIterations; small runs give everything to the early stages. */
export function stageBudgets(maxIterations: number): Record<ExperimentStage, number> {
  const budgets = { baseline: 0, tuning: 0, research: 0, ablation: 0 } as Record<ExperimentStage, number>;
  let left = maxIterations;
  for (const stage of STAGE_ORDER) {
    const wanted = Math.round(maxIterations * STAGES[stage].share);
    budgets[stage] = Math.min(stage === 'baseline' ? Math.max(1, wanted) : wanted, left);
    left -= budgets[stage];
  }
  budgets.research += left;
  return budgets;
}

export interface Step {
  operator: Operator;
  parent: ExperimentNode | null;
}

/** A small deterministic generator: the same run makes the same choices, also after a resume. */
export function seededRandom(seed: string, counter: number): number {
  let h = 2166136261 ^ counter;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * The search policy. Baseline: `numDrafts` independent drafts first. Then, with probability `debugProb`, fix a
 * failed leaf that is still fixable; otherwise apply the stage's operator to the best node. With nothing working,
 * debug when possible, else draft afresh.
 */
export function chooseStep(
  stage: ExperimentStage,
  nodes: ExperimentNode[],
  policy: SearchPolicy,
  direction: MetricDirection,
  random: number,
): Step {
  if (stage === 'baseline') {
    const drafts = nodes.filter((n) => n.stage === 'baseline' && n.operator === 'draft').length;
    if (drafts < policy.numDrafts) return { operator: 'draft', parent: null };
  }
  const fixable = debuggableLeaves(nodes, policy.maxDebugDepth);
  const newestFixable = fixable.at(-1) ?? null;
  const best = bestNode(nodes, direction);
  if (newestFixable && (!best || random < policy.debugProb)) return { operator: 'debug', parent: newestFixable };
  if (!best) return { operator: 'draft', parent: null };
  return { operator: STAGES[stage].operator, parent: best };
}

/** A stage is over when its experiments are used — baseline only once something works. */
export function stageComplete(
  stage: ExperimentStage,
  stageNodes: number,
  budget: number,
  nodes: ExperimentNode[],
): boolean {
  if (stageNodes < budget) return false;
  return stage !== 'baseline' || goodNodes(nodes).length > 0;
}
