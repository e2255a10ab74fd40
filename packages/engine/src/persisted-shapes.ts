import { z } from 'zod';
import { ResearchPlan } from './journal.js';

/**
 * Shapes the run state persists (run-state.ts) that began as a model's reply: the ideas of ideation and the paper's
 * sections. They hold no limits of the prompts: the tools (tools.ts) ask the model for these shapes within limits of
 * their own, which may be tightened freely, while a checkpoint written by an earlier version stays readable (an
 * unreadable one would silently restart its run). Change these only compatibly: a new field is optional.
 */

export const Idea = z.object({
  title: z.string(),
  hypothesis: z.string(),
  experiments: z.string(),
  metric: ResearchPlan.shape.metric,
  interestingness: z.number(),
  feasibility: z.number(),
  novelty: z.number(),
  search_queries: z.array(z.string()),
});
export type Idea = z.infer<typeof Idea>;

export const PaperSections = z.object({
  title: z.string(),
  abstract: z.string(),
  introduction: z.string(),
  related_work: z.string(),
  method: z.string(),
  experimental_setup: z.string(),
  results: z.string(),
  ablations: z.string(),
  limitations: z.string(),
  conclusion: z.string(),
});
export type PaperSections = z.infer<typeof PaperSections>;
