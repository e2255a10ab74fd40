import { PATCH_TYPES, type PatchType } from '@autolab/contracts';
import type { Random } from './program-database.js';

/** How often each kind of patch is asked for (`PatchMix` in contracts); weights, normalised over the usable kinds. */
export type PatchTypeWeights = Readonly<Partial<Record<PatchType, number>>>;

/**
 * Draws the kind of patch the next child is written with: P(t) = w_t / Σ w over the usable kinds. Crossover needs a
 * second parent, so it is left out when `canCrossover` is false (the island's only correct program is the parent).
 * Falls back to `diff` when no usable kind has a positive weight.
 */
export function choosePatchType(weights: PatchTypeWeights, rng: Random, canCrossover: boolean): PatchType {
  const usable = PATCH_TYPES.filter((type) => (type !== 'crossover' || canCrossover) && (weights[type] ?? 0) > 0);
  const total = usable.reduce((sum, type) => sum + weights[type]!, 0);
  if (usable.length === 0 || !Number.isFinite(total)) return 'diff';
  let draw = rng.next() * total;
  for (const type of usable) {
    draw -= weights[type]!;
    if (draw < 0) return type;
  }
  return usable[usable.length - 1]!;
}
