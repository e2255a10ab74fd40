import type { SearchPolicy, SearchTuning } from '@autolab/contracts';

/**
 * Self-tuning search (docs/lessons.md): what a tenant's finished runs measured about the tree search itself — how often
 * a first draft works, how often a debug step at depth d fixes its parent, which stages improved the metric — sets the
 * defaults of `numDrafts`, `debugProb` and `maxDebugDepth` for the tenant's runs that do not set them.
 */

/** The search counts of one run, or summed over a tenant's runs. Keys are flat, as stored in Redis. */
export interface SearchCounts {
  /** Finished runs counted (1 for a single run). */
  runs: number;
  drafts: number;
  draftsWorked: number;
  /** Debug steps at each depth (1 = fixing a node that was not itself a fix), and how many of them worked. */
  debugs: Record<string, number>;
  debugsFixed: Record<string, number>;
  /** Experiments per stage, and how many measured better than their parent. */
  stageNodes: Record<string, number>;
  stageImproved: Record<string, number>;
}

export const emptyCounts = (): SearchCounts => ({
  runs: 0,
  drafts: 0,
  draftsWorked: 0,
  debugs: {},
  debugsFixed: {},
  stageNodes: {},
  stageImproved: {},
});

/** Observations a default needs before the statistics may change it. */
export const MIN_OBSERVATIONS = 5;
/** The bounds the tuned defaults stay within. */
export const TUNING_BOUNDS = {
  numDrafts: { min: 1, max: 5 },
  debugProb: { min: 0.1, max: 0.9 },
  maxDebugDepth: { min: 1, max: 5 },
} as const;
/** Drafts are planned so that at least one works with this probability. */
const DRAFT_SUCCESS_TARGET = 0.75;
/** The debug depth is the one by which this share of all fixes had happened. */
const FIX_COVERAGE = 0.9;

const clamp = (value: number, bounds: { min: number; max: number }) =>
  Math.min(bounds.max, Math.max(bounds.min, value));
const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
/** Laplace's rule: the success rate with one imagined success and one imagined failure added. */
const rate = (successes: number, trials: number) => (successes + 1) / (trials + 2);
const pct = (value: number) => `${Math.round(value * 100)} %`;

export type TunableField = 'numDrafts' | 'debugProb' | 'maxDebugDepth';
export const TUNABLE_FIELDS: readonly TunableField[] = ['numDrafts', 'debugProb', 'maxDebugDepth'];

/**
 * The search policy for a run: `policy` as requested, with each field in `open` (not set by the request) replaced
 * by what the tenant's statistics say, when they say enough. Every open field gets an entry saying its value and why.
 *
 * - `numDrafts`: with p the rate at which drafts worked, the fewest drafts for which at least one works with
 *   probability 0.75: ⌈ln 0.25 / ln(1 − p)⌉.
 * - `debugProb`: the rate at which debug steps fixed their parent.
 * - `maxDebugDepth`: the depth by which 90 % of all fixes had happened (1 when debugging never fixed anything).
 *
 * Rates use Laplace's rule, (successes + 1) / (trials + 2); each default needs `MIN_OBSERVATIONS` and stays in
 * `TUNING_BOUNDS`.
 */
export function tuneSearch(
  policy: SearchPolicy,
  open: readonly TunableField[],
  counts: SearchCounts,
): { search: SearchPolicy; tuning: SearchTuning[] } {
  const search = { ...policy };
  const tuning: SearchTuning[] = [];
  const debugs = sum(counts.debugs);
  const fixed = sum(counts.debugsFixed);
  const keep = (field: TunableField, what: string, seen: number) =>
    tuning.push({
      field,
      value: search[field],
      tuned: false,
      reason: `the request default: ${seen} ${what} recorded in this tenant's runs, fewer than the ${MIN_OBSERVATIONS} needed`,
    });
  for (const field of TUNABLE_FIELDS) {
    if (!open.includes(field)) continue;
    if (field === 'numDrafts') {
      if (counts.drafts < MIN_OBSERVATIONS) {
        keep(field, 'drafts', counts.drafts);
        continue;
      }
      const p = rate(counts.draftsWorked, counts.drafts);
      const needed = p >= 1 ? 1 : Math.ceil(Math.log(1 - DRAFT_SUCCESS_TARGET) / Math.log(1 - p));
      search.numDrafts = clamp(needed, TUNING_BOUNDS.numDrafts);
      tuning.push({
        field,
        value: search.numDrafts,
        tuned: true,
        reason: `${counts.draftsWorked} of ${counts.drafts} drafts worked (rate ${pct(p)}): ${search.numDrafts} draft(s) give at least one that works with probability ≥ ${pct(DRAFT_SUCCESS_TARGET)}${needed > TUNING_BOUNDS.numDrafts.max ? ` (capped at ${TUNING_BOUNDS.numDrafts.max})` : ''}`,
      });
    } else if (field === 'debugProb') {
      if (debugs < MIN_OBSERVATIONS) {
        keep(field, 'debug steps', debugs);
        continue;
      }
      const p = rate(fixed, debugs);
      search.debugProb = Math.round(clamp(p, TUNING_BOUNDS.debugProb) * 100) / 100;
      tuning.push({
        field,
        value: search.debugProb,
        tuned: true,
        reason: `${fixed} of ${debugs} debug steps fixed their parent (rate ${pct(p)})`,
      });
    } else {
      if (debugs < MIN_OBSERVATIONS) {
        keep(field, 'debug steps', debugs);
        continue;
      }
      let depth = 0;
      if (fixed > 0) {
        let covered = 0;
        const depths = Object.keys(counts.debugsFixed)
          .map(Number)
          .sort((a, b) => a - b);
        for (const d of depths) {
          covered += counts.debugsFixed[String(d)] ?? 0;
          depth = d;
          if (covered >= FIX_COVERAGE * fixed) break;
        }
      }
      search.maxDebugDepth = clamp(depth, TUNING_BOUNDS.maxDebugDepth);
      tuning.push({
        field,
        value: search.maxDebugDepth,
        tuned: true,
        reason:
          fixed === 0
            ? `none of ${debugs} debug steps fixed its parent: one attempt per failure`
            : `${pct(FIX_COVERAGE)} of the ${fixed} fixes happened by debug depth ${depth}`,
      });
    }
  }
  return { search, tuning };
}
