import { LESSON_TAG_PATTERN, LessonKind } from '@autolab/contracts';
import { z } from 'zod';
import { type Operator, ResearchPlan } from './journal.js';
import type { Idea, PaperSections } from './persisted-shapes.js';
import { defineTool } from './ports.js';

/**
 * Every tool the engine offers the model, with the schema its reply must validate against. A model answers every
 * call with exactly one call of one of the tools it was offered; `RunContext.ask` types the reply by those tools, so
 * a step reads `reply.value` as the tool's arguments without a cast. The prompt text lives in prompts.ts.
 */

/** Figures shown to the vision model in one call; the rest are skipped with a note. */
export const MAX_CRITIQUED_FIGURES = 6;
/** Edits one evolve diff may make, and recommendations the meta step may keep. */
export const MAX_EVOLVE_EDITS = 20;
export const MAX_RECOMMENDATIONS = 5;
/** Lessons the distillation step may propose. */
export const MAX_DISTILLED_LESSONS = 6;

const score = z.number().min(1).max(10);
/** An idea as the model must propose it (the run state keeps it as `Idea` of persisted-shapes.ts). */
const ProposedIdea: z.ZodType<Idea> = z.object({
  title: z.string().min(1).max(300),
  hypothesis: z.string().min(1).max(3000),
  experiments: z.string().min(1).max(4000).describe('The experiments that would test the hypothesis.'),
  metric: ResearchPlan.shape.metric,
  interestingness: score,
  feasibility: score.describe('Can it be done with small CPU-only experiments, no network, in minutes?'),
  novelty: score,
  search_queries: z.array(z.string().min(2).max(200)).max(3).describe('Literature queries to check novelty.'),
});
const Ideas = z.object({ ideas: z.array(ProposedIdea).min(1).max(10) });

/** The paper's sections as the model must write them (the run state keeps them as `PaperSections`). */
const WrittenSections: z.ZodType<PaperSections> = z.object({
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

export const ExperimentSubmission = z.object({
  plan: z.string().min(1).max(4000).describe('What this version does and why, in a few sentences.'),
  code: z.string().min(1).max(100_000).describe('The complete Python 3 program (experiment.py).'),
});
export type ExperimentSubmission = z.infer<typeof ExperimentSubmission>;

export const ExecutionReview = z.object({
  is_bug: z.boolean().describe('True if the run failed or its results cannot be trusted (NaN, leakage, wrong metric).'),
  summary: z.string().min(1).max(1500).describe('What happened and what it shows, in one or two sentences.'),
  metric: z
    .number()
    .nullable()
    .describe('Only when results.json lacks the primary metric: its value as printed in the output, else null.'),
  insight: z
    .string()
    .max(400)
    .nullable()
    .describe(
      'A reusable lesson for the next experiments, with numbers ("scaling made convergence 4x faster"), or null.',
    ),
});
export type ExecutionReview = z.infer<typeof ExecutionReview>;

export const PlotSubmission = z.object({
  code: z.string().min(1).max(50_000).describe('A Python program that writes PNG figures into the working directory.'),
  captions: z
    .array(z.object({ file: z.string().regex(/^[A-Za-z0-9_.-]+\.png$/), caption: z.string().min(1).max(600) }))
    .min(1)
    .max(4),
});
export type PlotSubmission = z.infer<typeof PlotSubmission>;

const rating = (min: number, max: number) => z.number().int().min(min).max(max);
export const Review = z.object({
  summary: z.string().min(1).max(3000),
  strengths: z.array(z.string().min(1).max(800)).max(10),
  weaknesses: z.array(z.string().min(1).max(800)).max(10),
  questions: z.array(z.string().min(1).max(800)).max(10),
  soundness: rating(1, 4),
  presentation: rating(1, 4),
  contribution: rating(1, 4),
  overall: rating(1, 10),
  confidence: rating(1, 5),
  decision: z.enum(['accept', 'reject']),
});
export type Review = z.infer<typeof Review>;

const FigureJudgement = z.object({
  file: z.string().min(1).max(200).describe('The file name of the figure, as listed in the prompt.'),
  verdict: z.enum(['ok', 'revise']),
  problems: z
    .array(z.string().min(1).max(400))
    .max(6)
    .describe('Concrete, fixable problems (which panel, axis, legend or series); empty for ok.'),
});
export const CritiqueSubmission = z.object({ figures: z.array(FigureJudgement).min(1).max(MAX_CRITIQUED_FIGURES) });
export type CritiqueSubmission = z.infer<typeof CritiqueSubmission>;

export const DistilledLesson = z.object({
  kind: LessonKind,
  text: z.string().min(10).max(400).describe('The lesson in one or two sentences, with the numbers that show it.'),
  tags: z
    .array(z.string().regex(LESSON_TAG_PATTERN))
    .max(6)
    .describe('Scope: task:<type>, data:<shape>, lib:<library>, metric:<name>; lower case.'),
  cites: z
    .array(z.string())
    .min(1)
    .max(5)
    .describe('Ids of the experiments of THIS run whose recorded results show the lesson (e.g. n002).'),
  relation: z
    .object({ lessonId: z.string(), stance: z.enum(['supports', 'contradicts']) })
    .nullable()
    .describe('An earlier lesson listed in the prompt that this one restates (supports) or refutes (contradicts).'),
});
export type DistilledLesson = z.infer<typeof DistilledLesson>;

export const TOOLS = {
  ideas: defineTool({
    name: 'propose_ideas',
    description: 'Propose candidate research ideas for the goal.',
    schema: Ideas,
  }),
  refine: defineTool({
    name: 'refine_ideas',
    description: 'Return the ideas again, revised in the light of the literature found (scores updated).',
    schema: Ideas,
  }),
  draft: defineTool({
    name: 'draft_experiment',
    description: 'Submit a complete experiment program.',
    schema: ExperimentSubmission,
  }),
  debug: defineTool({
    name: 'debug_experiment',
    description: 'Submit a fixed version of the failed experiment program.',
    schema: ExperimentSubmission,
  }),
  improve: defineTool({
    name: 'improve_experiment',
    description: 'Submit an improved version of the best experiment program.',
    schema: ExperimentSubmission,
  }),
  hyperparameter: defineTool({
    name: 'tune_experiment',
    description: 'Submit a version of the best program with one hyperparameter change (or a small sweep).',
    schema: ExperimentSubmission,
  }),
  ablation: defineTool({
    name: 'ablate_experiment',
    description: 'Submit a version of the best program with exactly one component removed or replaced.',
    schema: ExperimentSubmission,
  }),
  finish: defineTool({
    name: 'finish_stage',
    description: 'End the current stage: further experiments of this kind would not change the conclusion.',
    schema: z.object({ reason: z.string().min(1).max(2000) }),
  }),
  judge: defineTool({
    name: 'review_execution',
    description: 'Judge one execution of an experiment program.',
    schema: ExecutionReview,
  }),
  tieBreak: defineTool({
    name: 'choose_best',
    description: 'Choose the best of several experiments that reached exactly the same value of the primary metric.',
    schema: z.object({ nodeId: z.string(), reason: z.string().min(1).max(1000) }),
  }),
  plot: defineTool({
    name: 'write_plot_code',
    description: 'Write the code that draws the paper figures.',
    schema: PlotSubmission,
  }),
  critique: defineTool({
    name: 'critique_figures',
    description: 'Judge each figure of the paper: ok, or revise with the problems a reader would have with it.',
    schema: CritiqueSubmission,
  }),
  paper: defineTool({
    name: 'write_paper',
    description: 'Write the sections of the paper as LaTeX fragments.',
    schema: WrittenSections,
  }),
  fixLatex: defineTool({
    name: 'fix_latex',
    description: 'Return all paper sections again, corrected as the compiler or the checks require.',
    schema: WrittenSections,
  }),
  review: defineTool({ name: 'submit_review', description: 'Submit your review of the paper.', schema: Review }),
  metaReview: defineTool({
    name: 'submit_meta_review',
    description: 'Submit the meta-review that weighs the individual reviews.',
    schema: Review,
  }),
  revise: defineTool({
    name: 'revise_paper',
    description: 'Return all paper sections, revised to address the meta-review.',
    schema: WrittenSections,
  }),
  lessons: defineTool({
    name: 'record_lessons',
    description: 'Record the reusable lessons this run taught, each citing the experiments that show it.',
    schema: z.object({ lessons: z.array(DistilledLesson).max(MAX_DISTILLED_LESSONS) }),
  }),
  // Evolve mode (docs/evolve.md).
  evolveDiff: defineTool({
    name: 'propose_diff',
    description:
      'Change the program with search/replace edits inside its EVOLVE-BLOCK regions: each search text is copied exactly from the program and occurs once.',
    schema: z.object({
      summary: z.string().min(1).max(300).describe('One line: what the change does and why it should score higher.'),
      edits: z
        .array(z.object({ search: z.string().min(1).max(20_000), replace: z.string().max(40_000) }))
        .min(1)
        .max(MAX_EVOLVE_EDITS),
    }),
  }),
  evolveRewrite: defineTool({
    name: 'propose_rewrite',
    description:
      'Rewrite the program: the new content of every EVOLVE-BLOCK region, in order (the code outside them stays as it is).',
    schema: z.object({
      summary: z
        .string()
        .min(1)
        .max(300)
        .describe('One line: what the new version does and why it should score higher.'),
      blocks: z.array(z.string().max(100_000)).min(1).max(20),
    }),
  }),
  recommend: defineTool({
    name: 'record_recommendations',
    description:
      'Record short recommendations for the next mutations, each citing the candidates whose results show it.',
    schema: z.object({
      recommendations: z
        .array(
          z.object({
            text: z.string().min(1).max(300),
            candidate_ids: z
              .array(z.string().regex(/^c\d{3,}$/, 'a candidate id such as c004'))
              .min(1)
              .max(8),
          }),
        )
        .min(1)
        .max(MAX_RECOMMENDATIONS),
    }),
  }),
  evolveReport: defineTool({
    name: 'explain_best_program',
    description:
      'Explain what changed on the way from the initial program to the best one and why it helped, citing candidates; state no numbers (the report adds the measured ones).',
    schema: z.object({
      summary: z.string().min(1).max(2000),
      changes: z
        .array(
          z.object({
            candidate_id: z.string().regex(/^c\d{3,}$/, 'a candidate id such as c004'),
            what: z.string().min(1).max(500),
            why: z.string().min(1).max(500),
          }),
        )
        .max(20),
    }),
  }),
};

/** The tool each experiment operator submits its program with. */
export const OPERATOR_TOOLS: { [O in Operator]: (typeof TOOLS)[O] } = {
  draft: TOOLS.draft,
  debug: TOOLS.debug,
  improve: TOOLS.improve,
  hyperparameter: TOOLS.hyperparameter,
  ablation: TOOLS.ablation,
};
