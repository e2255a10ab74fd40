import { type Lesson, type LessonEvidence, type LessonKind, lessonConfidence } from '@autolab/contracts';

/** Evidence entries kept per lesson (the oldest first); later ones beyond it only move the confidence no further. */
export const MAX_EVIDENCE = 50;

/** A lesson as distilled from one run, with the evidence the engine found for it in that run's nodes. */
export interface LearnedLesson {
  kind: LessonKind;
  text: string;
  tags: string[];
  /** From this run, all `supports`: the nodes the lesson cites. */
  evidence: LessonEvidence[];
  /**
   * An existing lesson of the tenant (shown to the distillation step) that this one restates (`supports`: one lesson
   * with more evidence) or that this run's measurements contradict (`contradicts`: its confidence drops, and this
   * lesson is stored as a lesson of its own). Null: a new claim.
   */
  relation: { lessonId: string; stance: 'supports' | 'contradicts' } | null;
}

export interface MergeContext {
  tenant: string;
  now: string;
  newId: () => string;
}

const normalized = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
const sameEvidence = (a: LessonEvidence, b: LessonEvidence): boolean =>
  a.runId === b.runId && a.nodeId === b.nodeId && a.stance === b.stance;

/**
 * Folds one run's lessons into a tenant's library and returns the lessons that changed or are new. Idempotent: merging
 * the same run's lessons twice (a run that ended, was resumed and ended again) changes nothing the second time.
 */
export function mergeLessons(
  existing: readonly Lesson[],
  learned: readonly LearnedLesson[],
  ctx: MergeContext,
): Lesson[] {
  const byId = new Map(existing.map((lesson) => [lesson.id, lesson]));
  const changed = new Map<string, Lesson>();
  const current = (id: string): Lesson | undefined => changed.get(id) ?? byId.get(id);

  const addEvidence = (lesson: Lesson, evidence: LessonEvidence[]): void => {
    const fresh = evidence.filter((e) => !lesson.evidence.some((known) => sameEvidence(known, e)));
    if (fresh.length === 0) return;
    const all = [...lesson.evidence, ...fresh].slice(0, MAX_EVIDENCE);
    changed.set(lesson.id, { ...lesson, evidence: all, confidence: lessonConfidence(all), updatedAt: ctx.now });
  };

  for (const item of learned) {
    if (!item.evidence.some((e) => e.stance === 'supports')) continue;
    const related = item.relation ? current(item.relation.lessonId) : undefined;
    if (related && item.relation?.stance === 'supports' && related.kind === item.kind) {
      addEvidence(related, item.evidence);
      continue;
    }
    if (related && item.relation?.stance === 'contradicts') {
      addEvidence(
        related,
        item.evidence.map((e) => ({ ...e, stance: 'contradicts' as const })),
      );
    }
    // The same words as a lesson already kept: one lesson, more evidence (also how a re-run distillation is absorbed).
    const text = normalized(item.text);
    const twin = [...byId.keys(), ...changed.keys()]
      .map(current)
      .find((lesson) => lesson && lesson.kind === item.kind && normalized(lesson.text) === text);
    if (twin) {
      addEvidence(twin, item.evidence);
      continue;
    }
    const evidence = item.evidence.slice(0, MAX_EVIDENCE);
    const lesson: Lesson = {
      id: ctx.newId(),
      tenant: ctx.tenant,
      kind: item.kind,
      text: item.text,
      tags: [...new Set(item.tags)].sort(),
      evidence,
      confidence: lessonConfidence(evidence),
      pinned: false,
      retracted: false,
      createdAt: ctx.now,
      updatedAt: ctx.now,
    };
    changed.set(lesson.id, lesson);
  }
  return [...changed.values()];
}
