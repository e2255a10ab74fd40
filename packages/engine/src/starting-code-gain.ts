import type { StartingCodeGain } from '@autolab/contracts';
import { bestNode, type ExperimentNode, formatNumber, isBetter, type ResearchPlan } from './journal.js';

/**
 * What the search gained over the user's starting code: the best node against the node that ran the user's program
 * as it is. Null without starting code, or when that program did not produce the metric (nothing to compare with).
 */
export function startingCodeGain(
  plan: ResearchPlan,
  nodes: ExperimentNode[],
  startNodeId: string | null,
  /** The built-in template whose baseline the starting code is, if any. */
  template: string | null = null,
): StartingCodeGain | null {
  const start = nodes.find((n) => n.id === startNodeId);
  const best = bestNode(nodes, plan.metric.direction);
  if (!start || start.buggy || start.primary === null || !best) return null;
  const absolute = best.primary! - start.primary;
  return {
    metric: plan.metric.name,
    direction: plan.metric.direction,
    startNodeId: start.id,
    template,
    startValue: start.primary,
    bestNodeId: best.id,
    bestValue: best.primary!,
    absolute,
    relative: start.primary === 0 ? null : absolute / Math.abs(start.primary),
    improved: isBetter(best.primary!, start.primary, plan.metric.direction),
  };
}

/** What the starting code was, for people: the user's own program or a template's baseline. */
export const startingCodeName = (gain: Pick<StartingCodeGain, 'template'>): string =>
  gain.template ? `the ${gain.template} template's baseline` : "the user's starting code";

/** `+0.05`, `-1.2e-4`: a change with its sign. */
export const signed = (value: number): string => `${value > 0 ? '+' : ''}${formatNumber(value)}`;

/** `+12.5%`: a relative change as a signed percentage, or null. */
export const signedPercent = (relative: number | null): string | null =>
  relative === null ? null : `${relative > 0 ? '+' : ''}${formatNumber(Number((relative * 100).toPrecision(3)))}%`;

/** One line for events and prompts: `accuracy 0.6 (n001, the starting code) → 0.9 (n004): +0.3 (+50%), better`. */
export function describeGain(gain: StartingCodeGain): string {
  const relative = signedPercent(gain.relative);
  // The starting code's node is one of the candidates, so the best is never worse than it.
  const verdict = gain.improved ? 'better' : 'no improvement';
  return (
    `${gain.metric} ${formatNumber(gain.startValue)} (${gain.startNodeId}, ${startingCodeName(gain)}) → ` +
    `${formatNumber(gain.bestValue)} (${gain.bestNodeId}): ${signed(gain.absolute)}${relative ? ` (${relative})` : ''}, ${verdict}`
  );
}
