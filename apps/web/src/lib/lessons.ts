import type { Lesson } from '@autolab/contracts';
import { evidenceRecordPath } from '@autolab/contracts/evolve-artifacts';

/** How many distinct runs support a lesson and how many contradict it (what its confidence is computed from). */
export function lessonRuns(lesson: Pick<Lesson, 'evidence'>): { supporting: number; contradicting: number } {
  const runs = (stance: string) => new Set(lesson.evidence.filter((e) => e.stance === stance).map((e) => e.runId)).size;
  return { supporting: runs('supports'), contradicting: runs('contradicts') };
}

/** "2 runs", "1 run · 1 against". */
export function formatLessonRuns(lesson: Pick<Lesson, 'evidence'>): string {
  const { supporting, contradicting } = lessonRuns(lesson);
  const runs = `${supporting} run${supporting === 1 ? '' : 's'}`;
  return contradicting > 0 ? `${runs} · ${contradicting} against` : runs;
}

/** A confidence (0..1) as a whole percentage. */
export function formatConfidence(confidence: number): string {
  return Number.isFinite(confidence) ? `${Math.round(confidence * 100)}%` : '—';
}

/**
 * The run's artifact path of what an evidence entry cites: an experiment's node.json, or an evolve candidate's
 * candidate.json (the API's `links.node` names the same file).
 */
export const nodeJsonPath = evidenceRecordPath;
