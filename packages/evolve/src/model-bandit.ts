import { z } from 'zod';

/**
 * Which mutation model writes the next child: an upper-confidence bandit over the run's mutation models, rewarded
 * when a child improves on its parent and charged for what the model costs. The state is plain JSON (it goes into the
 * run's checkpoint) and every function returns a new state rather than changing the one it is given.
 */

export const ModelStats = z.object({
  /** Children this model wrote whose outcome is known. */
  pulls: z.number().int().min(0),
  /** Of those, the children that scored strictly better than their parent. */
  improvements: z.number().int().min(0),
  /** What those children cost in model calls, in US dollars. */
  costUsd: z.number().min(0),
});
export type ModelStats = z.infer<typeof ModelStats>;

/** Per model name; a model missing from it has not been tried. Its checkpoint shape. */
export const BanditState = z.record(z.string(), ModelStats);
export type BanditState = z.infer<typeof BanditState>;

export interface BanditOptions {
  /** c: how much the uncertainty of a rarely tried model counts. @defaultValue 1 */
  exploration?: number;
  /** How many improvements-per-child the most expensive model gives up for its cost. @defaultValue 0.1 */
  costWeight?: number;
  /**
   * Children of each model written but not evaluated yet (a run evaluates several at once). They count as tries in
   * the exploration term, so choices made in parallel spread over the models instead of all going to the leader;
   * their outcomes count once `record` has them. @defaultValue none
   */
  pending?: Readonly<Record<string, number>>;
}

export interface BanditChoice {
  model: string;
  /** One sentence for the event and the dashboard. */
  reason: string;
  /** Each model's score as `choose` defines it; null for a model not tried yet (chosen before any score counts). */
  scores: Record<string, number | null>;
}

export const DEFAULT_EXPLORATION = 1;
export const DEFAULT_COST_WEIGHT = 0.1;

const NO_STATS: ModelStats = { pulls: 0, improvements: 0, costUsd: 0 };
const statsOf = (state: BanditState, model: string): ModelStats => state[model] ?? NO_STATS;
const round = (x: number): string => x.toFixed(2);

/**
 * Picks the model for the next child. A model never tried goes first (in the order given). Once each has been tried,
 * the model with the highest
 *
 *     score_m = improvements_m / pulls_m + c · sqrt(2 · ln N / n_m) − costWeight · avgCost_m / maxAvgCost
 *
 * wins (UCB1 on the rate at which its children improved on their parents, minus a cost penalty), where n_m is the
 * model's tries (its evaluated children plus those still `pending`), N the tries of all the given models together,
 * avgCost_m = costUsd_m / pulls_m and maxAvgCost the largest avgCost among them (no penalty when every model is free).
 * A model whose only children are still pending counts a rate and a cost of 0 until one is evaluated. Ties go to the
 * model listed first.
 */
export function choose(state: BanditState, models: readonly string[], options: BanditOptions = {}): BanditChoice {
  if (models.length === 0) throw new Error('the bandit needs at least one mutation model');
  const c = options.exploration ?? DEFAULT_EXPLORATION;
  const costWeight = options.costWeight ?? DEFAULT_COST_WEIGHT;
  const arms = models.map((model) => {
    const stats = statsOf(state, model);
    const tries = stats.pulls + Math.max(0, options.pending?.[model] ?? 0);
    const rate = stats.pulls > 0 ? stats.improvements / stats.pulls : 0;
    const avgCost = stats.pulls > 0 ? stats.costUsd / stats.pulls : 0;
    return { model, stats, tries, rate, avgCost };
  });
  const total = arms.reduce((sum, arm) => sum + arm.tries, 0);
  const maxAvgCost = Math.max(...arms.map((arm) => arm.avgCost));
  const scored = arms.map((arm) => {
    const penalty = maxAvgCost > 0 ? costWeight * (arm.avgCost / maxAvgCost) : 0;
    const bonus = arm.tries > 0 ? c * Math.sqrt((2 * Math.log(total)) / arm.tries) : 0;
    return { ...arm, score: arm.tries > 0 ? arm.rate + bonus - penalty : null };
  });
  const scores = Object.fromEntries(scored.map(({ model, score }) => [model, score]));
  const untried = arms.find((arm) => arm.tries === 0);
  if (untried) {
    return {
      model: untried.model,
      reason:
        models.length === 1
          ? `${untried.model} is the only mutation model`
          : `${untried.model} has not been tried yet (every model writes a child before the bandit compares them)`,
      scores,
    };
  }
  const ranked = [...scored].sort((a, b) => b.score! - a.score!); // stable: equals keep the given order
  const [best, runnerUp] = [ranked[0]!, ranked[1]];
  const { pulls, improvements } = best.stats;
  const evidence =
    pulls === 0
      ? `no child evaluated yet (${best.tries} pending)`
      : `${improvements} of ${pulls} child${pulls === 1 ? '' : 'ren'} improved on their parent`;
  return {
    model: best.model,
    reason: runnerUp
      ? `${best.model}: ${evidence}, ucb ${round(best.score!)} > ${runnerUp.model} ${round(runnerUp.score!)}`
      : `${best.model} is the only mutation model (${evidence})`,
    scores,
  };
}

/** The state after a child of `model` was evaluated: one more pull, an improvement if it beat its parent, its cost. */
export function record(state: BanditState, model: string, improved: boolean, costUsd: number): BanditState {
  const stats = statsOf(state, model);
  return {
    ...state,
    [model]: {
      pulls: stats.pulls + 1,
      improvements: stats.improvements + (improved ? 1 : 0),
      costUsd: stats.costUsd + Math.max(0, costUsd),
    },
  };
}
