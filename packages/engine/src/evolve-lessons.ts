import type { LessonEvidence, LessonKind } from '@autolab/contracts';
import type { LearnedLesson } from '@autolab/lessons';
import type { EvolveCandidate } from './evolve-state.js';
import type { RunContext } from './run-context.js';
import { clip } from './text.js';

/**
 * When an evolve run ends, its recommendations become lessons of the tenant (docs/lessons.md), each with the
 * candidates it cites as evidence. A recommendation whose cited candidates show neither an improvement on their parent
 * (a technique) nor a failure (a pitfall) is not kept: the measurements must show what a lesson claims.
 */
export async function learnFromEvolution(ctx: RunContext): Promise<void> {
  const library = ctx.ports.lessons;
  const ev = ctx.state.evolve;
  if (!library || !ctx.input.lessons?.learn || !ev || ctx.state.lessons.learned) return;
  const byId = new Map(ev.database.candidates.map((c) => [c.id, c]));
  const now = new Date(ctx.ports.clock.now()).toISOString();
  const learned: LearnedLesson[] = [];
  for (const recommendation of ev.recommendations) {
    const cited = recommendation.candidateIds.map((id) => byId.get(id)).filter((c) => c !== undefined);
    const kind = kindShownBy(cited, byId);
    if (!kind) continue;
    const evidence = cited
      .map((c) => evidenceOf(ctx.input.runId, c, byId, kind, now))
      .filter((e): e is LessonEvidence => e !== null);
    if (evidence.length === 0) continue;
    learned.push({ kind, text: recommendation.text, tags: ['task:evolve'], evidence, relation: null });
  }
  const changed = learned.length > 0 ? await library.learn(learned) : [];
  ctx.state.lessons.learned = true;
  await ctx.checkpoint();
  const created = changed.filter((l) => l.evidence.every((e) => e.runId === ctx.input.runId)).map((l) => l.id);
  const updated = changed.map((l) => l.id).filter((id) => !created.includes(id));
  await ctx.emit({
    type: 'lessons.learned',
    message: `Lessons from this run's recommendations: ${created.length} new, ${updated.length} updated`,
    data: { created, updated, dropped: ev.recommendations.length - learned.length },
  });
}

const improvedOn = (c: EvolveCandidate, byId: Map<string, EvolveCandidate>): boolean => {
  const parent = c.parentIds[0] ? byId.get(c.parentIds[0]) : undefined;
  return c.status === 'evaluated' && parent?.status === 'evaluated' && c.score! > parent.score!;
};
const broke = (c: EvolveCandidate): boolean => c.status === 'incorrect' || c.status === 'failed';

function kindShownBy(cited: EvolveCandidate[], byId: Map<string, EvolveCandidate>): LessonKind | null {
  if (cited.some((c) => improvedOn(c, byId))) return 'technique';
  if (cited.some(broke)) return 'pitfall';
  return null;
}

function evidenceOf(
  runId: string,
  c: EvolveCandidate,
  byId: Map<string, EvolveCandidate>,
  kind: LessonKind,
  recordedAt: string,
): LessonEvidence | null {
  if (kind === 'technique' ? !improvedOn(c, byId) : !broke(c)) return null;
  const parent = c.parentIds[0] ? byId.get(c.parentIds[0]) : undefined;
  return {
    runId,
    nodeId: c.id,
    parentNodeId: parent?.id ?? null,
    stance: 'supports',
    metric: 'score',
    before: parent?.status === 'evaluated' ? parent.score : null,
    after: c.status === 'evaluated' ? c.score : null,
    error: broke(c) ? clip(c.error ?? c.status, 300) : null,
    results: null,
    recordedAt,
  };
}
