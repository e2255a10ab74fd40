/**
 * Which mutation model writes the next child: an upper-confidence bandit over the run's mutation models, rewarded
 * when a child improves on its parent and charged for what the model costs. The state is plain JSON (it goes into the
 * run's checkpoint) and every function returns a new state rather than changing the one it is given.
 */

export interface ModelStats {
  /** Children this model wrote whose outcome is known. */
  pulls: number;
  /** Of those, the children that scored strictly better than their parent. */
  improvements: number;
  /** What those children cost in model calls, in US dollars. */
  costUsd: number;
}

/** Per model name; a model missing from it has not been tried. */
export type BanditState = Record<string, ModelStats>;

export interface BanditOptions {
  /** c: how much the uncertainty of a rarely tried model counts. @defaultValue 1 */
  exploration?: number;
  /** How many improvements-per-child the most expensive model gives up for its cost. @defaultValue 0.1 */
  costWeight?: number;
}

export interface BanditChoice {
  model: string;
  /** One sentence for the event and the dashboard. */
  reason: string;
  /** Each model's score (null for a model not tried yet, which is chosen before any score counts). */
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
 *     score_m = improvements_m / pulls_m + c · sqrt(2 · ln N / pulls_m) − costWeight · avgCost_m / maxAvgCost
 *
 * wins (UCB1 on the rate at which its children improved on their parents, minus a cost penalty), where N is the pulls
 * of all the given models together, avgCost_m = costUsd_m / pulls_m and maxAvgCost the largest avgCost among them (no
 * penalty when every model is free). Ties go to the model listed first.
 */
export function choose(state: BanditState, models: readonly string[], options: BanditOptions = {}): BanditChoice {
  if (models.length === 0) throw new Error('the bandit needs at least one mutation model');
  const c = options.exploration ?? DEFAULT_EXPLORATION;
  const costWeight = options.costWeight ?? DEFAULT_COST_WEIGHT;
  const untried = models.find((model) => statsOf(state, model).pulls === 0);
  if (untried !== undefined) {
    const scores = Object.fromEntries(models.map((model) => [model, scoreless(state, model)]));
    return {
      model: untried,
      reason:
        models.length === 1
          ? `${untried} is the only mutation model`
          : `${untried} has not been tried yet (every model writes a child before the bandit compares them)`,
      scores,
    };
  }
  const total = models.reduce((sum, model) => sum + statsOf(state, model).pulls, 0);
  const maxAvgCost = Math.max(...models.map((model) => statsOf(state, model).costUsd / statsOf(state, model).pulls));
  const scored = models.map((model) => {
    const { pulls, improvements, costUsd } = statsOf(state, model);
    const penalty = maxAvgCost > 0 ? costWeight * (costUsd / pulls / maxAvgCost) : 0;
    return { model, score: improvements / pulls + c * Math.sqrt((2 * Math.log(total)) / pulls) - penalty };
  });
  const ranked = [...scored].sort((a, b) => b.score - a.score); // stable: equals keep the given order
  const [best, runnerUp] = [ranked[0]!, ranked[1]];
  const { pulls, improvements } = statsOf(state, best.model);
  const record = `${improvements} of ${pulls} child${pulls === 1 ? '' : 'ren'} improved on their parent`;
  return {
    model: best.model,
    reason: runnerUp
      ? `${best.model}: ${record}, ucb ${round(best.score)} > ${runnerUp.model} ${round(runnerUp.score)}`
      : `${best.model} is the only mutation model (${record})`,
    scores: Object.fromEntries(scored.map(({ model, score }) => [model, score])),
  };
}

/** A model not yet tried has no score; one that has is shown its improvement rate until every model has been tried. */
function scoreless(state: BanditState, model: string): number | null {
  const { pulls, improvements } = statsOf(state, model);
  return pulls === 0 ? null : improvements / pulls;
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
