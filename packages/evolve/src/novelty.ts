import { cosine } from '@autolab/lessons';

/**
 * Novelty rejection: a candidate too much like one already in the database is rejected before it is run, and the
 * model is asked again. The caller compares the similarity `mostSimilar` returns with its threshold (reject at
 * similarity ≥ threshold) and measures the evolve blocks' text (`evolveText`), since the fixed code is shared by all.
 */

export type SimilarityMeasure = 'embedding' | 'tokens';

export interface NoveltyItem {
  id: string;
  text: string;
  vector?: readonly number[] | null;
}

export interface Nearest {
  id: string;
  similarity: number;
  measure: SimilarityMeasure;
}

const COMMENTS = /\/\*[\s\S]*?\*\/|\/\/[^\n]*|#[^\n]*/g;
const TOKEN =
  /[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\*\*=?|\/\/=?|<<=?|>>=?|[=!<>+\-*/%&|^@:]=|->|&&|\|\||[^\sA-Za-z0-9_]/g;

/** The identifier, number and operator tokens of `text`; whitespace and `#`, `//` and `/* *\/` comments dropped. */
export function codeTokens(text: string): string[] {
  return text.replace(COMMENTS, ' ').match(TOKEN) ?? [];
}

/** Adjacent token pairs, so that the order of the tokens counts and not only which ones occur. */
function tokenPairs(text: string): Map<string, number> {
  const tokens = codeTokens(text);
  const grams = tokens.length < 2 ? tokens : tokens.slice(1).map((token, i) => `${tokens[i]} ${token}`);
  const counts = new Map<string, number>();
  for (const gram of grams) counts.set(gram, (counts.get(gram) ?? 0) + 1);
  return counts;
}

/**
 * Jaccard similarity of two programs' token pairs, counted with multiplicity:
 *
 *     sim(a, b) = Σ_g min(a_g, b_g) / Σ_g max(a_g, b_g)
 *
 * over every pair g of adjacent tokens (identifiers, numbers, operators). 1 for programs that differ only in
 * whitespace and comments, 0 for programs with no pair in common; two empty programs are identical (1). Pairs rather
 * than single tokens, because a change of one constant to another that occurs elsewhere leaves the token set as it
 * was, but not the pairs. For scale, on a 300-token circle-packing program: one constant changed 0.987, three
 * constants changed 0.960, a three-line loop added 0.943 (so a threshold of 0.95 rejects most one-constant tweaks).
 */
export function tokenSetSimilarity(a: string, b: string): number {
  const [x, y] = [tokenPairs(a), tokenPairs(b)];
  if (x.size === 0 && y.size === 0) return 1;
  let shared = 0;
  let union = 0;
  for (const gram of new Set([...x.keys(), ...y.keys()])) {
    const [m, n] = [x.get(gram) ?? 0, y.get(gram) ?? 0];
    shared += Math.min(m, n);
    union += Math.max(m, n);
  }
  return shared / union;
}

/** Cosine of two embedding vectors; 0 when either is all zeros or their lengths differ (the lessons' cosine). */
export const cosineSimilarity: (u: readonly number[], v: readonly number[]) => number = cosine;

/**
 * The existing program most like the candidate, or null when there is none. Each is compared by embedding cosine when
 * both have a vector of the same length, else by `tokenSetSimilarity`; the highest similarity wins (the earliest of
 * equals), and `measure` says how it was measured.
 */
export function mostSimilar(
  candidateText: string,
  existing: readonly NoveltyItem[],
  vector?: readonly number[] | null,
): Nearest | null {
  let nearest: Nearest | null = null;
  for (const item of existing) {
    const byEmbedding = !!vector && !!item.vector && item.vector.length === vector.length;
    const similarity = byEmbedding
      ? cosineSimilarity(vector!, item.vector!)
      : tokenSetSimilarity(candidateText, item.text);
    if (!nearest || similarity > nearest.similarity) {
      nearest = { id: item.id, similarity, measure: byEmbedding ? 'embedding' : 'tokens' };
    }
  }
  return nearest;
}
