import type { ResearchPlan } from './journal.js';
import { lessonsBlock } from './lessons.js';
import { papersBlock } from './papers.js';
import type { Idea } from './persisted-shapes.js';
import { type LiteraturePaper, LiteratureUnavailableError } from './ports.js';
import { IDEATION_SYSTEM, ideasPrompt, type LiteratureNote, refinePrompt, templateIdeasBlock } from './prompts.js';
import { type RunContext, RunFailure } from './run-context.js';
import { TOOLS } from './tools.js';

const PAPERS_PER_QUERY = 5;
const QUERIES_PER_ROUND = 8;
const MAX_PROPOSAL_ATTEMPTS = 4;

/**
 * Ideation: the model proposes several ideas (structured: hypothesis, experiments, metric and direction, scores),
 * revises them over `reflections` rounds against what the literature search finds, and the engine picks the one
 * with the best weighted score. The choice and its reason are events; the plan follows from the chosen idea.
 */
export async function ideationStage(ctx: RunContext): Promise<void> {
  await ctx.enterStage('ideation', 'Ideation: proposing ideas, checking them against the literature, choosing one.');
  const { numIdeas, reflections } = ctx.input.policy.ideation;
  // The user's papers are what the ideas build on; only ideation and the writeup carry them. A template adds its
  // metric, baseline and seed ideas.
  // The tenant's earlier lessons: novelty against its own past runs (what they tried is not proposed again).
  const lessons = await lessonsBlock(ctx, 'ideation', 'ideation', ctx.goalForPrompts);
  const goal =
    ctx.goalForPrompts + papersBlock(ctx.state.papers, 'ideation') + templateIdeasBlock(ctx.input.template) + lessons;
  let ideas: Idea[] | null = null;
  for (let attempt = 1; attempt <= MAX_PROPOSAL_ATTEMPTS && !ideas; attempt++) {
    if (!ctx.canCallModel('experiments'))
      throw new RunFailure('budget_exhausted', 'the budget was spent before any idea was proposed');
    const hints = await ctx.hints('ideation');
    const reply = await ctx.ask('ideas', IDEATION_SYSTEM, ideasPrompt(goal, numIdeas, hints), [TOOLS.ideas]);
    if (reply.ok) ideas = reply.value.ideas;
  }
  if (!ideas)
    throw new RunFailure('no_idea', `the model did not propose valid ideas in ${MAX_PROPOSAL_ATTEMPTS} attempts`);
  await emitIdeas(ctx, ideas, 0);

  for (let round = 1; round <= reflections; round++) {
    const notes = await searchLiterature(
      ctx,
      ideas.flatMap((i) => i.search_queries),
    );
    if (!ctx.canCallModel('experiments')) break;
    const hints = await ctx.hints(`ideation round ${round}`);
    // Typed here: `ask` infers its reply from its arguments, and `ideas` (in this prompt) is set from that reply.
    const prompt: string = refinePrompt(goal, ideas, notes, hints);
    const reply = await ctx.ask('refine_ideas', IDEATION_SYSTEM, prompt, [TOOLS.refine]);
    if (!reply.ok) continue;
    ideas = reply.value.ideas;
    await emitIdeas(ctx, ideas, round);
  }

  const { index, reason } = chooseIdea(ideas);
  const chosen = ideas[index]!;
  // The chosen idea's own queries: its references for the paper (already cached when reflections searched them).
  await searchLiterature(ctx, chosen.search_queries);
  const plan: ResearchPlan = {
    title: chosen.title,
    hypothesis: chosen.hypothesis,
    metric: chosen.metric,
    plan: chosen.experiments,
  };
  ctx.state.ideation = { ideas, chosen: index, reason };
  ctx.state.plan = plan;
  await ctx.sink.saveArtifact('ideas.json', JSON.stringify({ ideas, chosen: index, reason }, null, 2));
  await ctx.sink.saveArtifact('plan.json', JSON.stringify(plan, null, 2));
  await ctx.emit({
    type: 'idea.chosen',
    message: `Chosen idea: ${chosen.title} (${reason}).`,
    data: {
      title: chosen.title,
      hypothesis: chosen.hypothesis,
      reason,
      scores: { interestingness: chosen.interestingness, feasibility: chosen.feasibility, novelty: chosen.novelty },
      references: referencePapers(ctx).length,
    },
  });
  await ctx.emit({
    type: 'plan.ready',
    message: `Plan: ${plan.title}. Primary metric: ${plan.metric.name} (${plan.metric.direction}).`,
    data: { title: plan.title, hypothesis: plan.hypothesis, metric: plan.metric },
  });
  await ctx.checkpoint();
}

/** Feasibility counts most: an idea that cannot run in a small sandbox produces no evidence at all. */
export function chooseIdea(ideas: Idea[]): { index: number; reason: string } {
  const score = (i: Idea) => i.interestingness + 1.5 * i.feasibility + i.novelty;
  let index = 0;
  ideas.forEach((idea, i) => {
    if (score(idea) > score(ideas[index]!)) index = i;
  });
  const idea = ideas[index]!;
  return {
    index,
    reason:
      `best weighted score ${score(idea)} of ${ideas.length} idea(s) (interestingness ${idea.interestingness} + ` +
      `1.5 × feasibility ${idea.feasibility} + novelty ${idea.novelty})`,
  };
}

async function emitIdeas(ctx: RunContext, ideas: Idea[], round: number): Promise<void> {
  await ctx.emit({
    type: 'idea.proposed',
    message: `${round === 0 ? 'Proposed' : `Revised (round ${round})`}: ${ideas.map((i) => i.title).join(' | ')}`,
    data: {
      round,
      ideas: ideas.map((i) => ({
        title: i.title,
        hypothesis: i.hypothesis,
        scores: { interestingness: i.interestingness, feasibility: i.feasibility, novelty: i.novelty },
      })),
    },
  });
}

/**
 * Runs the queries that have not been run before (results are cached in the state, so resumes and reruns never ask
 * twice). When no service can be reached the run says so once and goes on without citations.
 */
async function searchLiterature(ctx: RunContext, queries: string[]): Promise<LiteratureNote[]> {
  const unique = [...new Set(queries.map((q) => q.trim()).filter(Boolean))].slice(0, QUERIES_PER_ROUND);
  const search = ctx.ports.literature;
  const state = ctx.state;
  for (const query of unique) {
    if (state.literature[query]) {
      const cached = state.literature[query];
      await ctx.emit({
        type: 'literature.searched',
        message: `Literature (cached): ${cached.papers.length} papers for "${query}".`,
        data: { query, source: cached.source, count: cached.papers.length, cached: true },
      });
      continue;
    }
    if (!search || state.literatureUnavailable) continue;
    ctx.throwIfInterrupted();
    try {
      const result = await search.search(query, PAPERS_PER_QUERY, ctx.signal);
      state.literature[query] = { source: result.source, papers: result.papers };
      await ctx.emit({
        type: 'literature.searched',
        message: `Literature: ${result.papers.length} papers from ${result.source} for "${query}".`,
        data: { query, source: result.source, count: result.papers.length, cached: false },
      });
    } catch (err) {
      if (!(err instanceof LiteratureUnavailableError)) throw err;
      state.literatureUnavailable = true;
      await ctx.emit({
        type: 'warning',
        message: `The literature search is unavailable (${err.message}); going on without novelty checks and citations.`,
        data: { code: 'literature_unavailable', detail: err.message },
      });
    }
  }
  if (!search && unique.length > 0 && !state.literatureUnavailable) {
    state.literatureUnavailable = true;
    await ctx.emit({
      type: 'warning',
      message: 'No literature search is configured; going on without novelty checks and citations.',
      data: { code: 'literature_unavailable', detail: 'not configured' },
    });
  }
  await ctx.checkpoint();
  return unique
    .filter((q) => state.literature[q])
    .map((query) => ({
      query,
      papers: state.literature[query]!.papers.map((p) => ({
        key: p.id,
        title: p.title,
        year: p.year,
        abstract: p.abstract,
      })),
    }));
}

/** Every distinct paper the searches returned: the only papers the paper may cite. */
export function referencePapers(ctx: RunContext): LiteraturePaper[] {
  const seen = new Map<string, LiteraturePaper>();
  for (const { papers } of Object.values(ctx.state.literature)) {
    for (const paper of papers) if (!seen.has(paper.id)) seen.set(paper.id, paper);
  }
  return [...seen.values()];
}
