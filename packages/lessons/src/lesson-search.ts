import type { Lesson, LessonKind } from '@autolab/contracts';
import MiniSearch from 'minisearch';
import { stemmer } from 'stemmer';

/**
 * Full-text retrieval over one tenant's lessons: BM25 (MiniSearch) over the lesson's text and tags, with English
 * stemming, weighted by the lesson's confidence. Relevance is judged, not assumed: a lesson must share at least
 * `MIN_MATCHED_TERMS` distinct meaningful terms with the query and score within `RELATIVE_CUTOFF` of the best match of
 * its kind, so an unrelated goal gets no lessons at all rather than the least bad ones.
 */

/** Distinct query terms (after stemming and stop words) a lesson must share with the query. */
export const MIN_MATCHED_TERMS = 2;
/** A lesson scoring below this share of the best match is left out. */
export const RELATIVE_CUTOFF = 0.35;
/** Reciprocal rank fusion's constant (the value of its paper, Cormack et al. 2009). */
const RRF_K = 60;

/** Cosine similarity of two vectors (0 for a zero vector or vectors of different lengths). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Words that say nothing about what a lesson is about: English function words and the vocabulary every research
 * goal and lesson shares ("experiment", "result", "improve"), which would otherwise match everything with everything.
 */
const STOP_WORDS = new Set(
  `a about above after again against all also an and any are as at be because been before being below between both
  but by can could did do does doing down during each few for from further had has have having how if in into is it
  its itself just more most no nor not now of off on once only or other our out over own same should so some such
  than that the their them then there these they this those through to too under until up very was we were what
  when where which while who why will with would you your
  affect affects effect effects experiment experiments experimental result results run runs running study studies
  studying use used uses using work works compare compared comparing comparison measure measured measuring improve
  improved improves improving better worse best show shows value values question investigate whether does how much
  get gets got make makes made one two three first per vs versus`.split(/\s+/),
);

export interface LessonQuery {
  /** Free text: a goal, a plan, an error message. */
  text: string;
  /** Only these kinds (all when absent). */
  kinds?: readonly LessonKind[];
  /** Only lessons that carry every one of these tags. */
  tags?: readonly string[];
  limit: number;
  /** Retracted lessons are never retrieved into runs; the API's search may list them. @defaultValue false */
  includeRetracted?: boolean;
  /**
   * Hybrid retrieval: the query's embedding and the lessons' (by id). A lesson is then also relevant when its cosine
   * similarity to the query reaches `minSimilarity`, and the two rankings are fused (reciprocal rank).
   */
  semantic?: { query: readonly number[]; vectors: ReadonlyMap<string, readonly number[]>; minSimilarity: number };
}

export interface LessonHit {
  lesson: Lesson;
  score: number;
}

/** Lower case, split on anything but letters and digits, stop words dropped, each word stemmed. */
export function lessonTerms(text: string): string[] {
  return (text.toLowerCase().match(/[a-z][a-z0-9]*|[0-9]+[a-z][a-z0-9]*/g) ?? [])
    .filter((word) => word.length > 1 && !STOP_WORDS.has(word))
    .map((word) => stemmer(word));
}

/** `task:tabular-classification` → `tabular classification` (the facet is for filters, the value for search). */
const tagWords = (tags: readonly string[]): string =>
  tags.map((tag) => tag.slice(tag.indexOf(':') + 1).replace(/[-_.+]/g, ' ')).join(' ');

export class LessonIndex {
  private readonly search: MiniSearch<{ id: string; text: string; tags: string }>;
  private readonly byId: Map<string, Lesson>;

  constructor(lessons: readonly Lesson[]) {
    this.byId = new Map(lessons.map((lesson) => [lesson.id, lesson]));
    this.search = new MiniSearch({
      fields: ['text', 'tags'],
      // Tokens are already words; processTerm stems them and drops stop words (returning null drops a term).
      tokenize: (text) => text.split(/[^A-Za-z0-9]+/),
      processTerm: (term) => {
        const [word] = lessonTerms(term);
        return word ?? null;
      },
    });
    this.search.addAll(lessons.map((lesson) => ({ id: lesson.id, text: lesson.text, tags: tagWords(lesson.tags) })));
  }

  get size(): number {
    return this.byId.size;
  }

  /** The lessons the index holds. */
  get lessons(): Lesson[] {
    return [...this.byId.values()];
  }

  /** The relevant lessons, most relevant first; none when nothing in the library is about the query. */
  find(query: LessonQuery): LessonHit[] {
    const kinds = query.kinds ? new Set<string>(query.kinds) : null;
    const hits = this.search
      .search(query.text, {
        boost: { text: 2 },
        combineWith: 'OR',
        filter: (result) => {
          const lesson = this.byId.get(result.id as string);
          if (!lesson) return false;
          if (lesson.retracted && !query.includeRetracted) return false;
          if (kinds && !kinds.has(lesson.kind)) return false;
          return (query.tags ?? []).every((tag) => lesson.tags.includes(tag));
        },
      })
      .filter((result) => new Set(result.queryTerms).size >= MIN_MATCHED_TERMS)
      .map((result) => {
        const lesson = this.byId.get(result.id as string)!;
        return { lesson, score: result.score * (0.5 + lesson.confidence) };
      })
      .sort((a, b) => b.score - a.score || a.lesson.id.localeCompare(b.lesson.id));
    // The cut-off is relative to the best lesson of the same kind: a pitfall that matches a goal is not crowded out by
    // a setting that shares more of its vocabulary (a long plan matches wordy settings more than short pitfalls).
    const topOfKind = new Map<string, number>();
    for (const hit of hits) if (!topOfKind.has(hit.lesson.kind)) topOfKind.set(hit.lesson.kind, hit.score);
    let relevant = hits.filter((hit) => hit.score >= topOfKind.get(hit.lesson.kind)! * RELATIVE_CUTOFF);
    if (query.semantic) relevant = this.fuse(relevant, query, kinds);
    // Pinned lessons that are relevant come first (a stable sort keeps the ranking within each group).
    return relevant.sort((a, b) => Number(b.lesson.pinned) - Number(a.lesson.pinned)).slice(0, query.limit);
  }

  /**
   * Full-text hits and the lessons whose embedding is close enough to the query's, ranked by reciprocal rank fusion
   * (1 / (60 + rank) summed over the two rankings): a lesson found both ways ranks above one found either way.
   */
  private fuse(textHits: LessonHit[], query: LessonQuery, kinds: Set<string> | null): LessonHit[] {
    const { query: vector, vectors, minSimilarity } = query.semantic!;
    const close = [...this.byId.values()]
      .filter((l) => (!l.retracted || query.includeRetracted) && (!kinds || kinds.has(l.kind)))
      .filter((l) => (query.tags ?? []).every((tag) => l.tags.includes(tag)))
      .flatMap((lesson) => {
        const other = vectors.get(lesson.id);
        const similarity = other ? cosine(vector, other) : -1;
        return similarity >= minSimilarity ? [{ lesson, score: similarity }] : [];
      })
      .sort((a, b) => b.score - a.score || a.lesson.id.localeCompare(b.lesson.id));
    const fused = new Map<string, LessonHit>();
    for (const list of [textHits, close]) {
      list.forEach((hit, rank) => {
        const known = fused.get(hit.lesson.id);
        const score = (known?.score ?? 0) + 1 / (RRF_K + rank + 1);
        fused.set(hit.lesson.id, { lesson: hit.lesson, score });
      });
    }
    return [...fused.values()].sort((a, b) => b.score - a.score || a.lesson.id.localeCompare(b.lesson.id));
  }
}
