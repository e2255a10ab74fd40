import { z } from 'zod';
import { EvolvePolicy } from './evolve.js';
import { RunLessonsPolicy, SearchTuning } from './lessons.js';
import { ModelName, RunModels, RunModelsRequest } from './models.js';
import { DEFAULT_SANDBOX_IMAGE, SandboxImageName } from './sandbox-images.js';
import { EXPERIMENT_STAGES, RERUN_STAGES, RUN_STAGES } from './stages.js';
import { UPLOAD_ID_PATTERN } from './uploads.js';

/** Lifecycle of a run. `queued` and `running` are live; the other three are final. */
export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
export const isFinalStatus = (status: RunStatus): boolean => FINAL_STATUSES.includes(status);

/** Where a run is in the research process. */
export const RunStage = z.enum(RUN_STAGES);
export type RunStage = z.infer<typeof RunStage>;

/** Stages of the experiment tree search, in order; each has its own goal and exit condition. */
export const ExperimentStage = z.enum(EXPERIMENT_STAGES);
export type ExperimentStage = z.infer<typeof ExperimentStage>;

/** Stages a finished run can be re-run from (a new attempt of the same run that reuses what came before). */
export const RerunStage = z.enum(RERUN_STAGES);
export type RerunStage = z.infer<typeof RerunStage>;

export const RUN_ID_PATTERN = /^run_[0-9a-z]{26}$/;
export const RunId = z.string().regex(RUN_ID_PATTERN, 'not a run id');

export const MAX_GOAL_CHARS = 8000;

export const SandboxOptions = z
  .object({
    cpus: z.number().min(0.25).max(16).default(1).describe('CPU cores the experiment may use.'),
    memoryMb: z.number().int().min(128).max(65536).default(2048).describe('Memory limit of the sandbox (no swap).'),
    execTimeoutSeconds: z
      .number()
      .int()
      .min(5)
      .max(3600)
      .default(300)
      .describe('Wall-clock limit of one experiment run; the process tree is killed after it.'),
    image: SandboxImageName.default(DEFAULT_SANDBOX_IMAGE).describe(
      'The sandbox image the experiments run in, by name (`GET /v1/images` lists them).',
    ),
  })
  .strict();
export type SandboxOptions = z.infer<typeof SandboxOptions>;

/** How the experiment tree is searched (AIDE / AI-Scientist-v2 style). */
export const SearchPolicy = z
  .object({
    numDrafts: z.number().int().min(1).max(10).default(2).describe('Independent first drafts in the baseline stage.'),
    debugProb: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('Chance of debugging a failed leaf (when one is fixable) instead of improving the best node.'),
    maxDebugDepth: z.number().int().min(0).max(10).default(3).describe('Debug attempts in a row on one lineage.'),
    nodeConcurrency: z
      .number()
      .int()
      .min(1)
      .max(8)
      .default(1)
      .describe('Experiments of this run evaluated at once, each in its own sandbox.'),
  })
  .strict();
export type SearchPolicy = z.infer<typeof SearchPolicy>;

export const IdeationPolicy = z
  .object({
    numIdeas: z.number().int().min(1).max(10).default(3),
    reflections: z.number().int().min(0).max(5).default(1).describe('Rounds in which the model revises its ideas.'),
  })
  .strict();

export const ReviewPolicy = z
  .object({
    reviewers: z.number().int().min(0).max(7).default(3).describe('Independent reviews; 0 skips the review.'),
    revise: z.boolean().default(false).describe('One revision of the paper driven by the meta-review.'),
  })
  .strict();

export const MetricDirection = z.enum(['maximize', 'minimize']);
export type MetricDirection = z.infer<typeof MetricDirection>;

const UploadId = z.string().regex(UPLOAD_ID_PATTERN, 'not an upload id (upl_…)');

/** Built-in research templates' names: lower-case words joined by `-` (`tabular`, `diffusion-2d`). */
export const TEMPLATE_NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
export const TemplateName = z
  .string()
  .max(40)
  .regex(TEMPLATE_NAME_PATTERN, 'not a template name (GET /v1/templates lists them)');

/** Metrics the service can compute itself from `predictions.csv` and the hidden labels, with their direction. */
export const HELD_OUT_METRICS = {
  accuracy: 'maximize',
  f1: 'maximize',
  auc: 'maximize',
  rmse: 'minimize',
  mae: 'minimize',
  logloss: 'minimize',
} as const satisfies Record<string, MetricDirection>;
export const HeldOutMetric = z.enum(Object.keys(HELD_OUT_METRICS) as [keyof typeof HELD_OUT_METRICS]);
export type HeldOutMetric = z.infer<typeof HeldOutMetric>;

/**
 * A held-out test the agent never sees: the service grades the best programs' `predictions.csv` against the hidden
 * files in a sandbox of its own, after the search. Exactly one of `grader` (the user's program) and `metric`.
 */
export const RunEvaluation = z
  .object({
    hidden: UploadId.describe(
      'An upload with the held-out answers (for a built-in metric: one CSV with an `id` column and a `label` column). Never shown to the agent.',
    ),
    grader: UploadId.optional().describe(
      'An upload with the grading program (`grade.py`, or its only .py file), run with predictions.csv and the hidden files; it writes score.json.',
    ),
    metric: HeldOutMetric.optional().describe('A built-in metric instead of a grader.'),
    direction: MetricDirection.optional().describe(
      "Whether a higher or a lower held-out score is better; defaults to the metric's own (maximize for a grader).",
    ),
  })
  .strict()
  .refine((e) => (e.grader === undefined) !== (e.metric === undefined), {
    message: 'give either a grader or a metric (one of them)',
    path: ['metric'],
  });
export type RunEvaluation = z.infer<typeof RunEvaluation>;

/** The grading program of an upload: `grade.py` at its top level, or its only top-level `.py` file; null if neither. */
export function graderEntryPoint(paths: string[]): string | null {
  const topLevel = paths.filter((p) => !p.includes('/') && p.endsWith('.py'));
  if (topLevel.includes('grade.py')) return 'grade.py';
  return topLevel.length === 1 ? topLevel[0]! : null;
}

/** A hidden upload a built-in metric can read holds exactly one CSV file (the answers). */
export const answersFileCount = (paths: string[]): number =>
  paths.filter((p) => p.toLowerCase().endsWith('.csv')).length;

/** A researcher's own material for the run, by upload id (`POST /v1/uploads`); each must be the run's tenant's. */
export const RunInputs = z
  .object({
    data: UploadId.optional().describe(
      'An upload whose files every experiment finds at /workspace/input/data/ (read-only to the experiment).',
    ),
    code: UploadId.optional().describe(
      'An upload with starting code, found by every experiment at /workspace/input/code/ (read-only).',
    ),
    template: TemplateName.optional().describe(
      'A built-in research template (GET /v1/templates): its baseline becomes the starting code (as `code` would; ' +
        'not together with `code`), its goal the run’s goal when none is given.',
    ),
    papers: UploadId.optional().describe(
      'An upload of papers (PDFs and .bib files) the research builds on: their text is extracted inside a sandbox for ' +
        'ideation and related work, and the paper cites them.',
    ),
    evaluation: RunEvaluation.optional().describe(
      'A held-out test: the service scores the best programs on it after the search (see docs/inputs.md).',
    ),
    evaluator: UploadId.optional().describe(
      'Evolve mode only: an upload holding `evaluate.py`, run in a sandbox against every candidate program; it writes metrics.json (with a `score`) and correct.json (see docs/evolve.md).',
    ),
  })
  .strict();
export type RunInputs = z.infer<typeof RunInputs>;
/** The inputs every experiment sandbox holds under /workspace/input/<kind>/. */
export const INPUT_KINDS = ['data', 'code', 'papers', 'evaluator'] as const satisfies readonly (keyof RunInputs)[];

/** Every upload a run names, with the request field that names it (the hidden and grader uploads too). */
export function runUploads(inputs: RunInputs): { field: string; uploadId: string }[] {
  const out: { field: string; uploadId: string }[] = [];
  for (const kind of INPUT_KINDS) {
    const id = inputs[kind];
    if (id) out.push({ field: `inputs.${kind}`, uploadId: id });
  }
  const evaluation = inputs.evaluation;
  if (evaluation) {
    out.push({ field: 'inputs.evaluation.hidden', uploadId: evaluation.hidden });
    if (evaluation.grader) out.push({ field: 'inputs.evaluation.grader', uploadId: evaluation.grader });
  }
  return out;
}
/** Where an input is inside every experiment sandbox. */
export const INPUT_MOUNT = '/workspace/input';

/** `research`: goal → ideas → experiments → paper. `evolve`: the user's program and evaluator → better programs. */
export const RunMode = z.enum(['research', 'evolve']);
export type RunMode = z.infer<typeof RunMode>;

export const CreateRunRequest = z
  .object({
    mode: RunMode.default('research').describe(
      '`research` (default): a goal becomes experiments and a paper. `evolve`: inputs.code is improved against inputs.evaluator (docs/evolve.md).',
    ),
    evolve: EvolvePolicy.optional().describe('Evolve mode settings (only with mode `evolve`).'),
    goal: z
      .string()
      .trim()
      .min(10, 'the goal needs at least 10 characters')
      .max(MAX_GOAL_CHARS, `the goal may have at most ${MAX_GOAL_CHARS} characters`)
      .optional()
      .describe(
        'The research question or goal, in plain language. Required, except with `inputs.template` (whose goal is used).',
      ),
    maxIterations: z
      .number()
      .int()
      .min(1)
      .max(200)
      .default(6)
      .describe('Experiments to run at most (each is one node of the experiment tree).'),
    budgetUsd: z
      .number()
      .positive()
      .max(10000)
      .optional()
      .describe(
        'Hard cap on model spend for the run, in USD; default 5. Only for runs whose models all have a price (AUTOLAB_MODEL_PRICES): otherwise refused, and left out the run has no USD budget.',
      ),
    timeLimitMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60)
      .describe('Wall-clock cap for the run.'),
    model: ModelName.optional().describe(
      'Model name at the OpenAI-compatible endpoint, for every step; defaults to the server setting AUTOLAB_MODEL (and AUTOLAB_MODEL_<ROLE> per role).',
    ),
    models: RunModelsRequest.optional().describe(
      'A model per role (code, judge, writeup, review, ideas, vision); each left out uses `model`.',
    ),
    sandbox: SandboxOptions.default({ cpus: 1, memoryMb: 2048, execTimeoutSeconds: 300, image: DEFAULT_SANDBOX_IMAGE }),
    maxTokens: z
      .number()
      .int()
      .min(1000)
      .max(1e9)
      .optional()
      .describe('Hard cap on model tokens (prompt + completion) for the run.'),
    search: SearchPolicy.default({ numDrafts: 2, debugProb: 0.5, maxDebugDepth: 3, nodeConcurrency: 1 }),
    ideation: IdeationPolicy.default({ numIdeas: 3, reflections: 1 }),
    review: ReviewPolicy.default({ reviewers: 3, revise: false }),
    seeds: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe('Extra seeds the best experiment is re-run with; the paper reports mean ± std.'),
    pageLimit: z.number().int().min(1).max(50).default(8).describe('Pages the paper may have.'),
    inputs: RunInputs.default({}).describe(
      'Your own data, starting code, papers and held-out test (upload ids), or a built-in template.',
    ),
    lessons: RunLessonsPolicy.default({ use: true, learn: true }).describe(
      "Whether the run reads the tenant's lessons into its prompts and adds its own when it ends (docs/lessons.md).",
    ),
  })
  .strict()
  .superRefine((request, ctx) => {
    if (request.mode === 'evolve') {
      for (const field of ['code', 'evaluator'] as const)
        if (request.inputs[field] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['inputs', field],
            message: `evolve mode needs inputs.${field} (${field === 'code' ? 'the program to improve' : 'an upload with evaluate.py'})`,
          });
      for (const field of ['template', 'evaluation', 'papers'] as const)
        if (request.inputs[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: ['inputs', field], message: `evolve mode takes no inputs.${field}` });
      return;
    }
    if (request.evolve !== undefined)
      ctx.addIssue({ code: 'custom', path: ['evolve'], message: 'evolve settings need mode "evolve"' });
    if (request.inputs.evaluator !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['inputs', 'evaluator'],
        message: 'inputs.evaluator is for mode "evolve" (a held-out test is inputs.evaluation)',
      });
    if (request.goal === undefined && request.inputs.template === undefined)
      ctx.addIssue({ code: 'custom', path: ['goal'], message: 'give a goal (or inputs.template, whose goal is used)' });
    if (request.inputs.template !== undefined && request.inputs.code !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['inputs', 'template'],
        message: 'a run has one starting program: give inputs.template or inputs.code, not both',
      });
  });
export type CreateRunRequest = z.input<typeof CreateRunRequest>;
export type RunOptions = z.output<typeof CreateRunRequest>;

export const BestMetric = z.object({
  name: z.string(),
  value: z.number(),
  direction: MetricDirection,
  nodeId: z.string(),
  iteration: z.number().int(),
});
export type BestMetric = z.infer<typeof BestMetric>;

/**
 * How much the search improved on the user's starting code (a run with `inputs.code` whose program produced the
 * metric): the best node against the starting code's own node.
 */
export const StartingCodeGain = z.object({
  metric: z.string(),
  direction: MetricDirection,
  startNodeId: z.string().describe("The node that ran the user's code (or a template's baseline) as it is."),
  template: z
    .string()
    .nullable()
    .default(null)
    .describe('The built-in template whose baseline was the starting code; null for the user’s own code.'),
  startValue: z.number(),
  bestNodeId: z.string(),
  bestValue: z.number(),
  absolute: z.number().describe('bestValue − startValue (negative is better for a metric to minimize).'),
  relative: z.number().nullable().describe('absolute / |startValue|; null when startValue is 0.'),
  improved: z.boolean().describe('Whether the best node is better than the starting code in the metric’s direction.'),
});
export type StartingCodeGain = z.infer<typeof StartingCodeGain>;

/** Model usage summed over a run. */
export const Usage = z.object({
  calls: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.number(),
  cachedTokens: z
    .number()
    .int()
    .default(0)
    .describe(
      "Prompt tokens the provider served from its prefix cache (part of promptTokens, priced at the model's cached rate).",
    ),
  estimatedTokens: z
    .number()
    .int()
    .default(0)
    .describe(
      'Tokens of calls whose server reported no usage, counted with a tokenizer instead (part of totalTokens): an estimate.',
    ),
});
export type Usage = z.infer<typeof Usage>;
export const emptyUsage = (): Usage => ({
  calls: 0,
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  costUsd: 0,
  cachedTokens: 0,
  estimatedTokens: 0,
});

export const RunError = z.object({ code: z.string(), message: z.string() });

export const ReviewSummary = z.object({
  overall: z.number().describe('Meta-review overall score, 1–10.'),
  decision: z.enum(['accept', 'reject']),
  confidence: z.number(),
  reviewers: z.number().int(),
});
export type ReviewSummary = z.infer<typeof ReviewSummary>;

/** The held-out score of the best graded node, measured by the service (see RunEvaluation). */
export const HeldOutScore = z.object({
  metric: z.string(),
  value: z.number(),
  direction: MetricDirection,
  nodeId: z.string(),
});
export type HeldOutScore = z.infer<typeof HeldOutScore>;
export type RunError = z.infer<typeof RunError>;

export const RunLinks = z.object({
  self: z.string(),
  /** The run's page on the web dashboard the API serves (a client route of apps/web). */
  dashboard: z.string(),
  events: z.string(),
  artifacts: z.string(),
  archive: z.string(),
  cancel: z.string(),
});

export const RunRecord = z.object({
  id: z.string(),
  mode: RunMode.default('research'),
  goal: z.string(),
  status: RunStatus,
  stage: RunStage.nullable(),
  iteration: z.number().int().describe('Experiments finished so far.'),
  maxIterations: z.number().int(),
  model: z.string().describe('The code model (kept for clients that show one model).'),
  models: RunModels.describe('The model of each role.'),
  budgetUsd: z
    .number()
    .nullable()
    .describe('Hard cap on model spend in USD; null when a model of the run has no price (its token cap binds).'),
  timeLimitMinutes: z.number().int(),
  sandbox: z.object({
    cpus: z.number(),
    memoryMb: z.number().int(),
    execTimeoutSeconds: z.number().int(),
    image: z.string().describe('The sandbox image the experiments run in (its name).'),
  }),
  policy: z.object({
    maxTokens: z.number().int().nullable(),
    search: SearchPolicy,
    ideation: IdeationPolicy,
    review: ReviewPolicy,
    seeds: z.number().int(),
    pageLimit: z.number().int(),
    lessons: RunLessonsPolicy.default({ use: true, learn: true }),
    evolve: EvolvePolicy.nullable().default(null).describe('Evolve mode settings; null for a research run.'),
    searchTuning: z
      .array(SearchTuning)
      .default([])
      .describe(
        "For each of numDrafts, debugProb and maxDebugDepth the request left out: its value, and whether the tenant's statistics set it (docs/lessons.md).",
      ),
  }),
  tenant: z.string().describe('The tenant whose API key created the run.'),
  inputs: RunInputs,
  experimentStage: ExperimentStage.nullable(),
  review: ReviewSummary.nullable(),
  bestMetric: BestMetric.nullable(),
  heldOut: HeldOutScore.nullable().describe(
    'The best held-out score the service measured after the search (runs with inputs.evaluation), else null.',
  ),
  usage: Usage,
  attempt: z.number().int().describe('How many times a worker has started this run (more than 1 after a resume).'),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: RunError.nullable(),
  links: RunLinks,
});
export type RunRecord = z.infer<typeof RunRecord>;

export const RunList = z.object({
  runs: z.array(RunRecord),
  nextCursor: z.string().nullable().describe('Pass as `cursor` to get the next (older) page; null on the last page.'),
});
export type RunList = z.infer<typeof RunList>;

export const CreateHintRequest = z
  .object({ text: z.string().trim().min(1).max(2000).describe('Guidance for the agent, folded into its next prompt.') })
  .strict();
export const Hint = z.object({
  id: z.string(),
  text: z.string(),
  createdAt: z.string(),
  appliedAt: z.string().nullable(),
  appliedTo: z.string().nullable().describe('The step whose prompt carried the hint first.'),
});
export type Hint = z.infer<typeof Hint>;
export const HintList = z.object({ hints: z.array(Hint) });
export type HintList = z.infer<typeof HintList>;

export const RerunRequest = z
  .object({ fromStage: RerunStage.describe('Keep everything before this stage and run it and what follows again.') })
  .strict();
export type RerunRequest = z.infer<typeof RerunRequest>;

export const ArtifactEntry = z.object({ path: z.string(), size: z.number().int(), mediaType: z.string() });
export type ArtifactEntry = z.infer<typeof ArtifactEntry>;
export const ArtifactList = z.object({ artifacts: z.array(ArtifactEntry) });
