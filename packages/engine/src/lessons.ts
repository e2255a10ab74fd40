import { LESSON_KINDS, type Lesson, type LessonEvidence, type LessonKind } from '@autolab/contracts';
import { emptyCounts, type LearnedLesson, type SearchCounts } from '@autolab/lessons';
import { type ExperimentNode, insightLine, isBetter, type Operator, type ResearchPlan } from './journal.js';
import type { RunContext } from './run-context.js';
import type { RunState } from './run-state.js';
import { clip, oneLine } from './text.js';
import { MAX_DISTILLED_LESSONS, TOOLS } from './tools.js';

/**
 * Lessons across runs (docs/lessons.md): what the tenant's earlier runs taught goes into this run's prompts, and when
 * this run ends its journal is distilled into lessons of its own. The model only names the claim and the experiments
 * it rests on; the evidence (metric values, errors, results files) is read from the recorded nodes here, and a lesson
 * whose cited experiments do not show what its kind claims is dropped.
 */

/** The steps that get lessons, and the kinds each is given. */
export const LESSON_STEPS = {
  ideation: LESSON_KINDS,
  draft: ['pitfall', 'technique', 'setting'],
  debug: ['pitfall'],
  hyperparameter: ['setting', 'technique'],
  /** Evolve mode's children (docs/evolve.md). */
  mutate: ['pitfall', 'technique'],
} as const satisfies Record<string, readonly LessonKind[]>;
export type LessonStep = keyof typeof LESSON_STEPS;

/** Lessons retrieved per step, before the token budget cuts the block. */
const LESSONS_PER_STEP = 5;
/** The estimate the block is budgeted with (English prose runs at about 4 characters per token). */
const CHARS_PER_TOKEN = 4;
/** Existing lessons the distillation step is shown to relate to. */
const RELATED_SHOWN = 8;
/** Nodes the distillation prompt lists (the latest ones; failures are listed with their error). */
const DISTILL_NODES = 40;

/**
 * The lessons block of one step's prompt (empty when the run does not use lessons or none is relevant). Retrieval by
 * `query` (the goal, the plan, the failing error); the lessons that go in are recorded in the state and announced with
 * a `lessons.applied` event whenever a step gets a different set than the last step of its kind.
 */
export async function lessonsBlock(ctx: RunContext, step: LessonStep, label: string, query: string): Promise<string> {
  const library = ctx.ports.lessons;
  const policy = ctx.input.lessons;
  // After one failed lookup the attempt goes on without lessons: an unreachable store or embeddings endpoint must not
  // cost every later step its wait.
  if (!library || !policy?.use || ctx.lessonsUnavailableSaid) return '';
  let lessons: Lesson[];
  try {
    lessons = await ctx.lessonsFound(`${step}\n${query}`, () =>
      library.find({ text: query, kinds: LESSON_STEPS[step], limit: LESSONS_PER_STEP }),
    );
  } catch (err) {
    // Lessons help a step; they are never a reason for it to fail. Said once; the rest of the attempt goes without.
    if (!ctx.lessonsUnavailableSaid) {
      ctx.lessonsUnavailableSaid = true;
      await ctx.emit({
        type: 'warning',
        message: `The lessons of earlier runs cannot be read; this step goes on without them: ${(err as Error).message}`,
        data: { code: 'lessons_unavailable', detail: clip((err as Error).message, 500) },
      });
    }
    return '';
  }
  const block = renderLessons(lessons, policy.promptTokens * CHARS_PER_TOKEN);
  if (block.lessons.length === 0) return '';
  await recordApplied(ctx, step, label, block.lessons, library.retrieval);
  return block.text;
}

/** The lessons block of an experiment step: pitfalls for drafts and fixes, settings for tuning, none otherwise. */
export async function experimentLessons(
  ctx: RunContext,
  operator: Operator,
  parent: ExperimentNode | null,
  label: string,
): Promise<string> {
  const plan = ctx.state.plan!;
  const about = `${ctx.input.goal}\n${plan.title}\n${plan.hypothesis}`;
  switch (operator) {
    case 'draft':
      return lessonsBlock(ctx, 'draft', label, `${about}\n${plan.plan}`);
    case 'debug':
      // The failure is what the fix needs lessons about: its error and the end of its output.
      return lessonsBlock(
        ctx,
        'debug',
        label,
        `${parent?.error ?? ''}\n${parent?.stderrTail.slice(-600) ?? ''}\n${plan.title}`,
      );
    case 'hyperparameter':
      return lessonsBlock(ctx, 'hyperparameter', label, `${about}\n${plan.metric.name}`);
    default:
      return '';
  }
}

/** The block: a heading and one line per lesson, as many as fit in `maxChars` (the best first). */
export function renderLessons(lessons: readonly Lesson[], maxChars: number): { text: string; lessons: Lesson[] } {
  const head =
    "\nLessons from this lab's earlier runs (each measured there; cite a lesson's id when you follow it, and do not repeat what they show failed):\n";
  let text = head;
  const used: Lesson[] = [];
  for (const lesson of lessons) {
    const line = `- [${lesson.id}] (${lesson.kind}, confidence ${lesson.confidence.toFixed(2)}) ${oneLine(lesson.text, 400)}\n`;
    if (text.length + line.length > maxChars) break;
    text += line;
    used.push(lesson);
  }
  return { text: used.length > 0 ? text : '', lessons: used };
}

async function recordApplied(
  ctx: RunContext,
  step: LessonStep,
  label: string,
  lessons: Lesson[],
  retrieval: 'fulltext' | 'hybrid',
): Promise<void> {
  const applied = ctx.state.lessons.applied;
  const ids = lessons.map((l) => l.id);
  for (const lesson of lessons) {
    const known = applied.find((a) => a.id === lesson.id);
    if (known) {
      if (!known.steps.includes(step)) known.steps.push(step);
    } else {
      applied.push({ id: lesson.id, kind: lesson.kind, text: lesson.text, steps: [step] });
    }
  }
  const last = ctx.state.lessons.lastApplied[step];
  if (last && last.join(' ') === ids.join(' ')) return;
  ctx.state.lessons.lastApplied[step] = ids;
  await ctx.emit({
    type: 'lessons.applied',
    message: `${ids.length} lesson(s) from earlier runs in ${label}: ${ids.join(', ')}`,
    data: { step: label, lessonIds: ids, retrieval },
  });
}

// ---------------------------------------------------------------- distillation

export const LESSONS_SYSTEM = `You distil what a finished research run taught into short, reusable lessons for future
runs of the same lab: pitfalls (what crashed or misled, and the fix), techniques (what improved the metric), settings
(values that worked) and negative results (what was tried and did not help). Each lesson must be general enough to help
another run, specific enough to act on, and cite the experiments of this run whose recorded results show it. Propose
nothing the results do not show; propose no lesson rather than a vague one. Always answer by calling the tool.`;

/**
 * The distillation step: one model call over the run's journal (`how` says how the run ended), lessons checked
 * against the recorded nodes, then merged into the tenant's library. Never fails the run: a reply that cannot be used,
 * an unreachable library or a spent budget is a warning.
 */
export async function distilLessons(ctx: RunContext, how: string): Promise<void> {
  const library = ctx.ports.lessons;
  const { state } = ctx;
  if (!library || !ctx.input.lessons?.learn || state.lessons.learned) return;
  const plan = state.plan;
  const tried = state.nodes.length > 0 && plan !== null;
  const finish = async (): Promise<void> => {
    state.lessons.learned = true;
    await ctx.checkpoint();
  };
  if (!tried) return finish();
  if (!ctx.canCallModel('writeup')) {
    await ctx.emit({
      type: 'warning',
      message: 'No lessons were distilled from this run: its budget is spent.',
      data: { code: 'lessons_not_learned', detail: 'budget spent' },
    });
    return finish();
  }
  try {
    const related = await library.find({
      text: `${ctx.input.goal}\n${plan.title}\n${plan.hypothesis}`,
      limit: RELATED_SHOWN,
    });
    const reply = await ctx.ask('lessons', LESSONS_SYSTEM, distilPrompt(ctx, plan, how, related), [TOOLS.lessons]);
    if (!reply.ok) return finish();
    const proposed = reply.value.lessons;
    const now = new Date(ctx.ports.clock.now()).toISOString();
    const relatedIds = new Set(related.map((l) => l.id));
    const learned: LearnedLesson[] = [];
    for (const lesson of proposed) {
      const evidence: LessonEvidence[] = [];
      for (const id of new Set(lesson.cites)) {
        const found = evidenceFor(ctx.input.runId, state.nodes, plan, lesson.kind, id, now);
        if (!found) continue;
        // Linked only when the node wrote one (a metric the judge read from the output has no file behind it).
        const results = `nodes/${id}/results.json`;
        if (await ctx.sink.loadArtifact(results)) found.results = results;
        evidence.push(found);
      }
      if (evidence.length === 0) continue;
      const relation = lesson.relation && relatedIds.has(lesson.relation.lessonId) ? lesson.relation : null;
      learned.push({ kind: lesson.kind, text: oneLine(lesson.text, 400), tags: lesson.tags, evidence, relation });
    }
    const changed = learned.length > 0 ? await library.learn(learned) : [];
    const created = changed.filter((l) => l.evidence.every((e) => e.runId === ctx.input.runId)).map((l) => l.id);
    const updated = changed.map((l) => l.id).filter((id) => !created.includes(id));
    await ctx.emit({
      type: 'lessons.learned',
      message:
        `Lessons from this run: ${created.length} new, ${updated.length} updated` +
        (proposed.length > learned.length
          ? `; ${proposed.length - learned.length} proposed lesson(s) dropped (the recorded results do not show them)`
          : ''),
      data: { created, updated, dropped: proposed.length - learned.length },
    });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    await ctx.emit({
      type: 'warning',
      message: `No lessons were distilled from this run: ${(err as Error).message}`,
      data: { code: 'lessons_not_learned', detail: clip((err as Error).message, 500) },
    });
  }
  await finish();
}

function distilPrompt(ctx: RunContext, plan: ResearchPlan, how: string, related: readonly Lesson[]): string {
  const { nodes } = ctx.state;
  const listed = nodes.slice(-DISTILL_NODES);
  const lines = listed.map((n) => {
    const line = `- ${insightLine(n, nodes, plan)}`;
    return n.buggy ? `${line}\n  stderr tail: ${oneLine(n.stderrTail.slice(-400), 400)}` : line;
  });
  const earlier =
    related.length === 0 ? '(none)' : related.map((l) => `- [${l.id}] (${l.kind}) ${oneLine(l.text, 400)}`).join('\n');
  return `Research goal:\n${ctx.input.goal}

Idea: ${plan.title}
Primary metric: "${plan.metric.name}" (${plan.metric.direction})
How the run ended: ${how}

The experiments (${listed.length} of ${nodes.length}; a debug node is a fix of its parent):
${lines.join('\n')}

What the run learned along the way:
${ctx.state.insights.map((i) => `- ${i}`).join('\n') || '- (nothing recorded)'}

Lessons this lab already has on related work (relate a new lesson to one of them when it restates or refutes it):
${earlier}

Record at most ${MAX_DISTILLED_LESSONS} lessons, each citing the experiments of this run that show it.`;
}

/**
 * The evidence a cited node gives for a lesson of `kind`, read from the recorded results, or null when the node does
 * not exist or does not show that kind of lesson: a pitfall needs a failure (the node, or the parent it fixed); a
 * technique a measured improvement over its parent; a setting a working node with the metric; a negative result a node
 * that was measured no better than its parent, or failed. `results` is left for the caller, which knows the files.
 */
export function evidenceFor(
  runId: string,
  nodes: readonly ExperimentNode[],
  plan: ResearchPlan,
  kind: LessonKind,
  nodeId: string,
  recordedAt: string,
): LessonEvidence | null {
  const node = nodes.find((n) => n.id === nodeId);
  if (!node) return null;
  const parent = nodes.find((n) => n.id === node.parentId) ?? null;
  const works = (n: ExperimentNode | null): n is ExperimentNode => n !== null && !n.buggy && n.primary !== null;
  const improved = works(node) && works(parent) && isBetter(node.primary!, parent.primary!, plan.metric.direction);
  const shows: Record<LessonKind, boolean> = {
    pitfall: node.buggy || parent?.buggy === true,
    technique: improved,
    setting: works(node),
    'negative-result': node.buggy || (works(node) && works(parent) && !improved),
  };
  if (!shows[kind]) return null;
  const failed = node.buggy ? node : parent?.buggy ? parent : null;
  return {
    runId,
    nodeId: node.id,
    parentNodeId: parent?.id ?? null,
    stance: 'supports',
    metric: plan.metric.name,
    before: works(parent) ? parent.primary : null,
    after: works(node) ? node.primary : null,
    error: failed ? clip(failed.error ?? 'failed', 300) : null,
    results: null,
    recordedAt,
  };
}

// ---------------------------------------------------------------- search statistics

/**
 * What this run measured about the tree search, for the tenant's self-tuned defaults (`tuneSearch`): drafts and
 * whether each worked (the user's starting code run as it is is no draft), debug steps by depth and whether each fixed
 * its parent, experiments by stage and whether each measured better than its parent.
 */
export function searchCountsOf(state: RunState): SearchCounts {
  const counts = emptyCounts();
  const direction = state.plan?.metric.direction ?? 'maximize';
  const works = (n: ExperimentNode | undefined) => n !== undefined && !n.buggy && n.primary !== null;
  const add = (record: Record<string, number>, key: string) => {
    record[key] = (record[key] ?? 0) + 1;
  };
  for (const node of state.nodes) {
    const parent = state.nodes.find((n) => n.id === node.parentId);
    if (node.operator === 'draft' && node.id !== state.startingCodeNodeId) {
      counts.drafts += 1;
      if (works(node)) counts.draftsWorked += 1;
    }
    if (node.operator === 'debug') {
      add(counts.debugs, String(node.debugDepth));
      if (works(node)) add(counts.debugsFixed, String(node.debugDepth));
    }
    add(counts.stageNodes, node.stage);
    if (works(node) && works(parent) && isBetter(node.primary!, parent!.primary!, direction))
      add(counts.stageImproved, node.stage);
  }
  return counts;
}

/** Adds the run's search counts to its tenant's (once per run; runs that do not learn add nothing). */
export async function recordSearchCounts(ctx: RunContext): Promise<void> {
  const library = ctx.ports.lessons;
  if (!library || !ctx.input.lessons?.learn || ctx.state.nodes.length === 0) return;
  await library.recordSearch(searchCountsOf(ctx.state));
}
