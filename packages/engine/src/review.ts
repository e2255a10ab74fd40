import { heldOutPaper } from './held-out.js';
import {
  metaReviewPrompt,
  REVIEWER_FOCUS,
  REVIEWER_SYSTEM,
  reviewPrompt,
  revisePrompt,
  WRITER_SYSTEM,
} from './prompts.js';
import type { RunContext } from './run-context.js';
import { type Review, TOOLS } from './tools.js';
import { compilePaper, paperMaterial } from './writeup.js';

/**
 * Review: K independent NeurIPS-style reviews, each with its own focus, and a meta-review that weighs them (when the
 * model cannot give one, the engine averages the reviews and says so). Stored as review.json and on the run.
 * Optionally one revision of the paper driven by the meta-review.
 */
export async function reviewStage(ctx: RunContext): Promise<void> {
  const { reviewers, revise } = ctx.input.policy.review;
  const { state } = ctx;
  if (reviewers === 0) {
    state.reviewDone = true;
    await ctx.checkpoint();
    return;
  }
  await ctx.enterStage('review', `Review: ${reviewers} independent reviews and a meta-review.`);
  const paperText = (await ctx.sink.loadArtifact('paper/paper.tex'))?.toString('utf8') ?? '';
  const heldOut = heldOutPaper(state.heldOut, state.plan!.metric.name).preview;
  const reviews: Review[] = [];
  for (let i = 1; i <= reviewers; i++) {
    if (!ctx.canCallModel('writeup')) break;
    const focus = REVIEWER_FOCUS[(i - 1) % REVIEWER_FOCUS.length]!;
    const reply = await ctx.ask('review', REVIEWER_SYSTEM, reviewPrompt(paperText, i, focus, heldOut), [TOOLS.review]);
    if (reply.ok) reviews.push(reply.value);
  }
  if (reviews.length === 0) {
    await ctx.emit({
      type: 'warning',
      message: 'No usable review was produced (budget or model answers); the run ends without one.',
      data: { code: 'review_unavailable', detail: `${reviewers} requested` },
    });
    state.reviewDone = true;
    await ctx.checkpoint();
    return;
  }
  let meta: Review | null = null;
  if (ctx.canCallModel('writeup')) {
    const reply = await ctx.ask(
      'meta_review',
      REVIEWER_SYSTEM,
      metaReviewPrompt(state.paperSections?.title ?? state.plan!.title, reviews),
      [TOOLS.metaReview],
    );
    if (reply.ok) meta = reply.value;
  }
  const metaFromModel = meta !== null;
  meta ??= averageReview(reviews);
  await ctx.sink.saveArtifact('review.json', JSON.stringify({ reviews, meta, metaFromModel }, null, 2));
  const summary = {
    overall: meta.overall,
    decision: meta.decision,
    confidence: meta.confidence,
    reviewers: reviews.length,
  };
  await ctx.sink.progress({ review: summary });
  await ctx.emit({
    type: 'review.completed',
    message: `Review: ${meta.decision} (overall ${meta.overall}/10, confidence ${meta.confidence}) from ${reviews.length} review(s)${metaFromModel ? '' : ', averaged by the engine'}.`,
    data: summary,
  });

  if (revise && state.paperSections && ctx.canCallModel('writeup')) {
    const reply = await ctx.ask('revise', WRITER_SYSTEM, revisePrompt(state.paperSections, meta), [TOOLS.revise]);
    if (reply.ok) {
      const material = await paperMaterial(ctx);
      const revised = await compilePaper(ctx, material, reply.value, 'paper-revised');
      if (!revised.fallback) {
        // The revision becomes the paper; the reviewed version stays as paper-reviewed.pdf.
        const original = await ctx.sink.loadArtifact('paper/paper.pdf');
        if (original) await ctx.sink.saveArtifact('paper/paper-reviewed.pdf', original);
        const pdf = await ctx.sink.loadArtifact('paper/paper-revised.pdf');
        const tex = await ctx.sink.loadArtifact('paper/paper-revised.tex');
        if (pdf && tex) {
          await ctx.sink.saveArtifact('paper/paper.pdf', pdf);
          await ctx.sink.saveArtifact('paper/paper.tex', tex);
          state.paperSections = revised.sections;
        }
      }
    }
  }
  state.reviewDone = true;
  await ctx.checkpoint();
}

/** The engine's own meta-review when the model gives none: averages, rounded, with the majority's lists. */
export function averageReview(reviews: Review[]): Review {
  const mean = (pick: (r: Review) => number) => Math.round(reviews.reduce((a, r) => a + pick(r), 0) / reviews.length);
  const overall = mean((r) => r.overall);
  return {
    summary: `Average of ${reviews.length} review(s); no meta-review was written.`,
    strengths: reviews.flatMap((r) => r.strengths).slice(0, 5),
    weaknesses: reviews.flatMap((r) => r.weaknesses).slice(0, 5),
    questions: reviews.flatMap((r) => r.questions).slice(0, 5),
    soundness: mean((r) => r.soundness),
    presentation: mean((r) => r.presentation),
    contribution: mean((r) => r.contribution),
    overall,
    confidence: mean((r) => r.confidence),
    decision: overall >= 6 ? 'accept' : 'reject',
  };
}
