import type { PatchType, Random } from './program-database.js';

/** How often each kind of patch is asked for; weights, normalised over the kinds that can be used. */
export type PatchTypeWeights = Readonly<Partial<Record<PatchType, number>>>;

export const DEFAULT_PATCH_TYPE_WEIGHTS: Readonly<Record<PatchType, number>> = {
  diff: 0.6,
  rewrite: 0.3,
  crossover: 0.1,
};

const ORDER: readonly PatchType[] = ['diff', 'rewrite', 'crossover'];

/**
 * Draws the kind of patch the next child is written with: P(t) = w_t / Σ w over the usable kinds. Crossover needs a
 * second parent, so it is left out when `canCrossover` is false (the island's only correct program is the parent).
 * Falls back to `diff` when no usable kind has a positive weight.
 */
export function choosePatchType(weights: PatchTypeWeights, rng: Random, canCrossover: boolean): PatchType {
  const usable = ORDER.filter((type) => (type !== 'crossover' || canCrossover) && (weights[type] ?? 0) > 0);
  const total = usable.reduce((sum, type) => sum + weights[type]!, 0);
  if (usable.length === 0 || !Number.isFinite(total)) return 'diff';
  let draw = rng.next() * total;
  for (const type of usable) {
    draw -= weights[type]!;
    if (draw < 0) return type;
  }
  return usable[usable.length - 1]!;
}
