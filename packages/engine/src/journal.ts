import { EXPERIMENT_STAGES, type ExperimentStage, type MetricDirection } from '@autolab/contracts';
import { z } from 'zod';
import { clip } from './text.js';

/** What the run is trying to find out and how success is measured; fixed once the idea is chosen. */
export const ResearchPlan = z.object({
  title: z.string().min(1).max(300),
  hypothesis: z.string().min(1).max(3000),
  metric: z.object({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, 'a metric name is a key of results.json: letters, digits, _ . -'),
    direction: z.enum(['maximize', 'minimize']),
    description: z.string().min(1).max(1000),
  }),
  plan: z.string().min(1).max(6000),
});
export type ResearchPlan = z.infer<typeof ResearchPlan>;

export const Operator = z.enum(['draft', 'debug', 'improve', 'hyperparameter', 'ablation']);
export type Operator = z.infer<typeof Operator>;

/** One experiment: the code the model wrote and what really happened when it ran. */
export const ExperimentNode = z.object({
  id: z.string(),
  parentId: z.string().nullable(),
  operator: Operator,
  stage: z.enum(EXPERIMENT_STAGES),
  iteration: z.number().int(),
  plan: z.string(),
  code: z.string(),
  buggy: z.boolean(),
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  outOfMemory: z.boolean(),
  durationMs: z.number().int(),
  metrics: z.record(z.string(), z.number()),
  /** The plan's metric, when the node produced it. */
  primary: z.number().nullable(),
  /** Why the node counts as buggy, in one line. */
  error: z.string().nullable(),
  /** The model's reading of the execution. */
  analysis: z.string().nullable(),
  stdoutTail: z.string(),
  stderrTail: z.string(),
  /** How many debug steps separate this node from the last non-debug ancestor. */
  debugDepth: z.number().int(),
  /** Artifact paths of the images the experiment saved. */
  figures: z.array(z.string()),
  /** Chosen by the model among nodes with exactly the best value (the metric decides; the model breaks ties). */
  preferred: z.boolean().default(false),
  /** Files the program left that were not copied out of the sandbox (over the output limits), in one line. */
  skippedOutputs: z.string().nullable().default(null),
});
export type ExperimentNode = z.infer<typeof ExperimentNode>;

export const nodeIdFor = (sequence: number): string => `n${String(sequence).padStart(3, '0')}`;

/** Is `a` a better value than `b` for this metric? */
export function isBetter(a: number, b: number, direction: MetricDirection): boolean {
  return direction === 'maximize' ? a > b : a < b;
}

export const goodNodes = (nodes: ExperimentNode[]): ExperimentNode[] =>
  nodes.filter((n) => !n.buggy && n.primary !== null);

export const buggyNodes = (nodes: ExperimentNode[]): ExperimentNode[] => nodes.filter((n) => n.buggy);

/**
 * The best node on the recorded metric; on a tie the earlier node wins (it needed less work). Ablations are
 * comparisons that deliberately remove something, so they never become the best solution.
 */
export function bestNode(nodes: ExperimentNode[], direction: MetricDirection): ExperimentNode | null {
  let best: ExperimentNode | null = null;
  for (const node of goodNodes(nodes)) {
    if (node.operator === 'ablation') continue;
    const tieWon = best !== null && node.primary === best.primary && node.preferred && !best.preferred;
    if (!best || isBetter(node.primary!, best.primary!, direction) || tieWon) best = node;
  }
  return best;
}

/** Failed nodes nobody has tried to fix yet and that may still be debugged. */
export function debuggableLeaves(nodes: ExperimentNode[], maxDebugDepth: number): ExperimentNode[] {
  const parents = new Set(nodes.map((n) => n.parentId));
  return nodes.filter((n) => n.buggy && !parents.has(n.id) && n.debugDepth < maxDebugDepth);
}

/** Four significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

/** One line per node: what was tried and what it measured. The short memory the next prompt carries. */
export function insightLine(node: ExperimentNode, nodes: ExperimentNode[], plan: ResearchPlan): string {
  const parent = nodes.find((n) => n.id === node.parentId);
  const head = `${node.id} (${node.stage}/${node.operator}${parent ? ` of ${parent.id}` : ''}): ${clip(node.plan.replace(/\s+/g, ' '), 120)}`;
  if (node.buggy) return `${head} → FAILED: ${clip(node.error ?? 'unknown error', 200)}`;
  let comparison = '';
  if (parent && parent.primary !== null && !parent.buggy) {
    const better = isBetter(node.primary!, parent.primary, plan.metric.direction);
    const same = node.primary === parent.primary;
    comparison = ` (${better ? 'better' : same ? 'same as' : 'worse'} than ${parent.id}: ${formatNumber(parent.primary)})`;
  }
  return `${head} → ${plan.metric.name} = ${formatNumber(node.primary!)}${comparison}`;
}

/** Plain data about the search stages; the decisions are in tree-search.ts. */
export const STAGE_ORDER: readonly ExperimentStage[] = EXPERIMENT_STAGES;
