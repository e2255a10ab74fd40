import { z } from 'zod';
import { ResearchPlan } from './journal.js';

/**
 * Shapes the run state persists (run-state.ts) that began as a model's reply: the ideas of ideation and the paper's
 * sections. A checkpoint written by an earlier version must stay readable, so these change only compatibly (a limit
 * may be loosened, never tightened; a new field is optional). A tool that wants to ask the model for less than this
 * accepts narrows its own schema in tools.ts; it never edits these.
 */

const score = z.number().min(1).max(10);
export const Idea = z.object({
  title: z.string().min(1).max(300),
  hypothesis: z.string().min(1).max(3000),
  experiments: z.string().min(1).max(4000).describe('The experiments that would test the hypothesis.'),
  metric: ResearchPlan.shape.metric,
  interestingness: score,
  feasibility: score.describe('Can it be done with small CPU-only experiments, no network, in minutes?'),
  novelty: score,
  search_queries: z.array(z.string().min(2).max(200)).max(3).describe('Literature queries to check novelty.'),
});
export type Idea = z.infer<typeof Idea>;

export const PaperSections = z.object({
  title: z.string().min(1).max(300),
  abstract: z.string().min(1).max(4000),
  introduction: z.string().min(1).max(12_000),
  related_work: z.string().min(1).max(8000),
  method: z.string().min(1).max(12_000),
  experimental_setup: z.string().min(1).max(8000),
  results: z.string().min(1).max(12_000),
  ablations: z.string().min(1).max(8000),
  limitations: z.string().min(1).max(6000),
  conclusion: z.string().min(1).max(6000),
});
export type PaperSections = z.infer<typeof PaperSections>;
