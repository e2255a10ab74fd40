import { z } from 'zod';
import { CandidateStatus, CandidateSummary } from './evolve.js';
import {
  ExperimentStage,
  MetricDirection,
  RerunStage,
  RunError,
  RunStage,
  RunStatus,
  StartingCodeGain,
  Usage,
} from './run.js';

/**
 * Every event of a run. One discriminated union: the API, the CLI and the dashboard all read this.
 * `message` is for people, `data` is for programs.
 */
export const NodeOperator = z.enum(['draft', 'debug', 'improve', 'hyperparameter', 'ablation']);
export type NodeOperator = z.infer<typeof NodeOperator>;

const NodeMetrics = z.record(z.string(), z.number());

const event = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({
    /** Position in the run's event log; use it as `Last-Event-ID` or `after` to resume. */
    id: z.string(),
    runId: z.string(),
    time: z.string(),
    type: z.literal(type),
    message: z.string(),
    data,
  });

export const RunQueuedEvent = event('run.queued', z.object({ goal: z.string() }));
export const RunStartedEvent = event(
  'run.started',
  z.object({ attempt: z.number().int(), worker: z.string(), resumedAt: z.number().int().nullable() }),
);
export const RunRequeuedEvent = event(
  'run.requeued',
  z.object({
    reason: z.string(),
    rerunFrom: RerunStage.nullable()
      .default(null)
      .describe(
        'Set when a rerun was asked for: this stage and the ones after it start again (their results are replaced).',
      ),
  }),
);
export const RunCancelRequestedEvent = event('run.cancel_requested', z.object({}));
/** Always the last event of a run. */
export const RunFinishedEvent = event(
  'run.finished',
  z.object({
    status: RunStatus,
    error: RunError.nullable(),
    usage: Usage,
    startingCode: StartingCodeGain.nullable()
      .optional()
      .describe('For a succeeded run with starting code that produced the metric: the gain of the best node over it.'),
  }),
);
export const StageStartedEvent = event('stage.started', z.object({ stage: RunStage }));
/** Sent when a stage has said nothing for a while (a long model call, a plot, a LaTeX compile): the run is alive. */
export const StageProgressEvent = event(
  'stage.progress',
  z.object({
    stage: RunStage,
    step: z.string().describe('What the stage is doing: a model call by its purpose (`write_paper`), or a named step.'),
    elapsedMs: z.number().int().describe('How long that step has been running.'),
  }),
);
/** The end of a run stage, or of one of the experiment search's stages, with why it ended. */
export const StageFinishedEvent = event(
  'stage.finished',
  z.object({ stage: z.union([RunStage, ExperimentStage]), reason: z.string() }),
);
export const InputsDescribedEvent = event(
  'inputs.described',
  z.object({
    inputs: z.array(
      z.object({
        kind: z.enum(['data', 'code']),
        uploadId: z.string().nullable().describe('null for the starting code of a built-in template'),
        template: z.string().optional().describe('The built-in template the starting code comes from.'),
        files: z.number().int(),
      }),
    ),
    preview: z.string().describe('What the prompts are told about the files (bounded), described inside a sandbox.'),
  }),
);
/** The user's papers as the run read them (inside a sandbox): what ideation builds on and the paper cites. */
export const InputsPapersEvent = event(
  'inputs.papers',
  z.object({
    uploadId: z.string(),
    pdfs: z.number().int().describe('PDF files in the upload.'),
    bibEntries: z.number().int().describe('Entries read from its .bib files.'),
    references: z
      .array(z.object({ key: z.string(), title: z.string(), from: z.enum(['bib', 'pdf']), file: z.string() }))
      .describe('The citable references, with the keys references.bib gives them.'),
    unreadable: z
      .array(z.object({ file: z.string(), reason: z.string() }))
      .describe('Files that could not be read (each also reported by a warning); the run goes on without them.'),
  }),
);
const IdeaScores = z.object({ interestingness: z.number(), feasibility: z.number(), novelty: z.number() });
export const IdeasProposedEvent = event(
  'idea.proposed',
  z.object({
    round: z.number().int().describe('0 for the first proposal, then one per reflection round.'),
    ideas: z.array(z.object({ title: z.string(), hypothesis: z.string(), scores: IdeaScores })),
  }),
);
export const LiteratureSearchedEvent = event(
  'literature.searched',
  z.object({ query: z.string(), source: z.string(), count: z.number().int(), cached: z.boolean() }),
);
export const IdeaChosenEvent = event(
  'idea.chosen',
  z.object({
    title: z.string(),
    hypothesis: z.string(),
    reason: z.string(),
    scores: IdeaScores,
    references: z.number().int(),
  }),
);
export const SearchStageEvent = event(
  'search.stage',
  z.object({
    stage: ExperimentStage,
    goal: z.string(),
    iterations: z.number().int().describe('Experiments this stage may run.'),
  }),
);
export const InsightsEvent = event('insights.updated', z.object({ insights: z.array(z.string()) }));
/** One extra seed of the best node starts (the seeds run after the search, before the figures). */
export const SeedStartedEvent = event(
  'seed.started',
  z.object({ nodeId: z.string(), seed: z.number().int(), of: z.number().int().describe('How many extra seeds run.') }),
);
export const SeedFinishedEvent = event(
  'seed.finished',
  z.object({
    nodeId: z.string(),
    seed: z.number().int(),
    value: z.number().nullable().describe("The run's metric with this seed; null when the seed's run failed."),
    durationMs: z.number().int(),
  }),
);
export const SeedsEvent = event(
  'seeds.evaluated',
  z.object({
    nodeId: z.string(),
    metric: z.string(),
    seeds: z.array(z.number().int()),
    values: z.array(z.number()),
    mean: z.number(),
    std: z.number(),
    ignored: z
      .boolean()
      .describe(
        'Every seed gave exactly the same value: the program is deterministic or ignores SEED (the paper says so).',
      ),
  }),
);
/** One node's predictions graded against the hidden files; `value` null with a `reason` when they could not be. */
export const HeldOutGrade = z.object({
  nodeId: z.string(),
  validation: z.number().describe("The node's own (validation) value of the run's metric."),
  value: z.number().nullable().describe('The held-out score the service measured.'),
  reason: z.string().nullable().describe('Why the node could not be graded (missing or malformed predictions, …).'),
});
export const EvaluationScoredEvent = event(
  'evaluation.scored',
  z.object({
    metric: z.string(),
    direction: MetricDirection,
    grader: z.enum(['builtin', 'user']),
    graded: z.array(HeldOutGrade),
    best: z.object({ nodeId: z.string(), value: z.number() }).nullable(),
    bestByValidation: z.string().describe('The node the search chose by its validation metric.'),
  }),
);
export const ReviewEvent = event(
  'review.completed',
  z.object({
    overall: z.number(),
    decision: z.enum(['accept', 'reject']),
    confidence: z.number(),
    reviewers: z.number().int(),
  }),
);
export const HintReceivedEvent = event('hint.received', z.object({ hintId: z.string(), text: z.string() }));
export const HintAppliedEvent = event('hint.applied', z.object({ hintId: z.string(), step: z.string() }));
/** Lessons of the tenant's earlier runs put into the prompt of a step (docs/lessons.md). */
export const LessonsAppliedEvent = event(
  'lessons.applied',
  z.object({
    step: z.string().describe('`ideation`, `draft`, `debug`, `hyperparameter`, with the node for experiment steps.'),
    lessonIds: z.array(z.string()),
    retrieval: z
      .enum(['fulltext', 'hybrid'])
      .describe(
        'How they were found: `fulltext` (BM25 over text and tags), or `hybrid` (with the embeddings of AUTOLAB_EMBEDDINGS_MODEL).',
      ),
  }),
);
/** What the distillation step at the end of the run added to the tenant's lessons. */
export const LessonsLearnedEvent = event(
  'lessons.learned',
  z.object({
    created: z.array(z.string()).describe('Ids of new lessons.'),
    updated: z.array(z.string()).describe('Ids of existing lessons that got evidence (supporting or contradicting).'),
    dropped: z.number().int().describe('Lessons the model proposed that the recorded results did not support.'),
  }),
);
/** Evolve mode: a child program written by a model, about to be evaluated (or the initial program). */
export const CandidateCreatedEvent = event(
  'candidate.created',
  CandidateSummary.extend({ summary: z.string().describe("The model's one-line account of its change.") }),
);
/** Evolve mode: a child too similar to an existing program; it is never run and the model is asked again. */
export const CandidateRejectedEvent = event(
  'candidate.rejected',
  CandidateSummary.extend({
    similarTo: z.string().describe('The existing candidate it resembles most.'),
    similarity: z.number(),
    measure: z.enum(['embedding', 'tokens']).describe('Embedding cosine, or the token-set (Jaccard) similarity.'),
    threshold: z.number(),
    rejections: z.number().int().describe('Children rejected so far in the run.'),
  }),
);
/** Evolve mode: the evaluator's verdict on a candidate. */
export const CandidateEvaluatedEvent = event(
  'candidate.evaluated',
  z.object({
    candidateId: z.string(),
    generation: z.number().int(),
    island: z.number().int(),
    status: CandidateStatus.exclude(['rejected']),
    score: z.number().nullable(),
    metrics: NodeMetrics,
    error: z.string().nullable().describe('Why it is incorrect or failed, in one line.'),
    durationMs: z.number().int(),
    improved: z.boolean().describe('Correct and better than its (first) parent.'),
  }),
);
/** Evolve mode: a generation's children are all evaluated. */
export const GenerationFinishedEvent = event(
  'generation.finished',
  z.object({
    generation: z.number().int(),
    bestCandidateId: z.string().nullable(),
    bestScore: z.number().nullable().describe('Best score so far (never worse than the last generation’s).'),
    evaluated: z.number().int(),
    incorrect: z.number().int(),
    failed: z.number().int(),
    rejected: z.number().int(),
  }),
);
/** Evolve mode: which mutation model writes this generation's children, and why (the bandit's reading). */
export const ModelsAllocatedEvent = event(
  'models.allocated',
  z.object({
    generation: z.number().int(),
    model: z.string(),
    reason: z.string(),
    stats: z.array(
      z.object({
        model: z.string(),
        pulls: z.number().int().describe('Children it wrote that were evaluated.'),
        improvements: z.number().int().describe('Of those, how many beat their parent.'),
        costUsd: z.number(),
        score: z.number().nullable().describe('Its upper-confidence score; null before it has been tried.'),
      }),
    ),
  }),
);
/** Evolve mode: islands received their neighbour's best. */
export const IslandsMigratedEvent = event(
  'islands.migrated',
  z.object({
    generation: z.number().int(),
    moves: z.array(z.object({ from: z.number().int(), to: z.number().int(), candidateId: z.string() })),
  }),
);
/** Evolve mode: the within-run memory, written every `metaInterval` generations and put into later mutation prompts. */
export const RecommendationsUpdatedEvent = event(
  'recommendations.updated',
  z.object({
    generation: z.number().int(),
    recommendations: z.array(z.object({ text: z.string(), candidateIds: z.array(z.string()) })),
  }),
);
export const PlanEvent = event(
  'plan.ready',
  z.object({
    title: z.string(),
    hypothesis: z.string(),
    metric: z.object({ name: z.string(), direction: MetricDirection, description: z.string() }),
  }),
);
export const NodeCreatedEvent = event(
  'node.created',
  z.object({
    nodeId: z.string(),
    parentId: z.string().nullable(),
    operator: NodeOperator,
    iteration: z.number().int(),
    plan: z.string(),
    stage: ExperimentStage.nullable().default(null),
  }),
);
export const ExecOutputEvent = event(
  'exec.output',
  z.object({
    nodeId: z.string(),
    stream: z.enum(['stdout', 'stderr']),
    text: z.string(),
  }),
);
export const NodeFinishedEvent = event(
  'node.finished',
  z.object({
    nodeId: z.string(),
    iteration: z.number().int(),
    buggy: z.boolean(),
    exitCode: z.number().int().nullable(),
    timedOut: z.boolean(),
    durationMs: z.number().int(),
    metrics: NodeMetrics,
    error: z.string().nullable(),
    stdoutTail: z.string(),
    stderrTail: z.string(),
    analysis: z
      .string()
      .nullable()
      .default(null)
      .describe("The model's reading of the execution (one or two sentences)."),
    skippedOutputs: z
      .string()
      .nullable()
      .default(null)
      .describe('Files the program left that were not copied out of the sandbox (over the output limits), if any.'),
  }),
);
export const MetricImprovedEvent = event(
  'metric.improved',
  z.object({
    nodeId: z.string(),
    iteration: z.number().int(),
    name: z.string(),
    value: z.number(),
    previous: z.number().nullable(),
    direction: MetricDirection,
  }),
);
export const FigureEvent = event(
  'figure.created',
  z.object({
    nodeId: z.string().nullable(),
    path: z.string(),
    caption: z
      .string()
      .optional()
      .describe('What the figure shows, as the plotting model captioned it (figures of the figures stage).'),
  }),
);
export const FigureVerdict = z.object({
  file: z.string().describe('The figure file, e.g. `final_losses.png` (under `figures/`).'),
  verdict: z.enum(['ok', 'revise']),
  problems: z.array(z.string()).describe('What the vision model found wrong with it (empty for `ok`).'),
});
export type FigureVerdict = z.infer<typeof FigureVerdict>;
/** The vision model saw the run's figures (runs with a `vision` model only); the critique is `figures/critique.json`. */
export const FiguresCritiquedEvent = event(
  'figures.critiqued',
  z.object({
    model: z.string().describe('The vision model that saw the figures.'),
    figures: z.array(FigureVerdict).describe('One verdict per figure it saw.'),
    skipped: z
      .array(z.object({ file: z.string(), reason: z.string() }))
      .describe('Figures it was not shown (over the count or size limit, not a PNG file).'),
    revision: z
      .enum(['none', 'done', 'failed'])
      .describe(
        '`none`: no figure needed one; `done`: the figure step ran once more with the problems in its prompt and its figures replaced the old ones; `failed`: that revision drew nothing and the old figures stay.',
      ),
  }),
);
export const PaperCompilingEvent = event('paper.compiling', z.object({ attempt: z.number().int() }));
export const PaperCompileFailedEvent = event(
  'paper.compile_failed',
  z.object({ attempt: z.number().int(), errorTail: z.string() }),
);
export const PaperReadyEvent = event(
  'paper.ready',
  z.object({ pdf: z.string(), tex: z.string(), attempt: z.number().int(), fallback: z.boolean() }),
);
export const CostEvent = event(
  'cost.updated',
  z.object({
    purpose: z.string(),
    model: z.string(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    cachedTokens: z
      .number()
      .int()
      .default(0)
      .describe('Prompt tokens of this call served from the provider’s prefix cache (priced at the cached rate).'),
    estimated: z
      .boolean()
      .default(false)
      .describe('The server reported no usage: the tokens of this call were counted with a tokenizer (an estimate).'),
    costUsd: z.number(),
    total: Usage,
    budgetUsd: z.number().nullable(),
  }),
);
/** A step went wrong but the run goes on (malformed model reply, a figure that did not render, …). */
export const ErrorEvent = event('error', z.object({ code: z.string(), step: z.string(), detail: z.string() }));
export const WarningEvent = event('warning', z.object({ code: z.string(), detail: z.string() }));

export const RunEvent = z.discriminatedUnion('type', [
  RunQueuedEvent,
  RunStartedEvent,
  RunRequeuedEvent,
  RunCancelRequestedEvent,
  RunFinishedEvent,
  StageStartedEvent,
  StageProgressEvent,
  StageFinishedEvent,
  InputsDescribedEvent,
  InputsPapersEvent,
  IdeasProposedEvent,
  LiteratureSearchedEvent,
  IdeaChosenEvent,
  PlanEvent,
  SearchStageEvent,
  InsightsEvent,
  SeedStartedEvent,
  SeedFinishedEvent,
  SeedsEvent,
  EvaluationScoredEvent,
  ReviewEvent,
  HintReceivedEvent,
  HintAppliedEvent,
  LessonsAppliedEvent,
  LessonsLearnedEvent,
  CandidateCreatedEvent,
  CandidateRejectedEvent,
  CandidateEvaluatedEvent,
  GenerationFinishedEvent,
  ModelsAllocatedEvent,
  IslandsMigratedEvent,
  RecommendationsUpdatedEvent,
  NodeCreatedEvent,
  ExecOutputEvent,
  NodeFinishedEvent,
  MetricImprovedEvent,
  FigureEvent,
  FiguresCritiquedEvent,
  PaperCompilingEvent,
  PaperCompileFailedEvent,
  PaperReadyEvent,
  CostEvent,
  ErrorEvent,
  WarningEvent,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
export type EventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

/** What a producer hands to the event log; the log adds `id`, `runId` and `time`. */
export type NewEvent = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, 'id' | 'runId' | 'time'>
    : never
  : never;

export const EventPage = z.object({
  events: z.array(RunEvent),
  next: z
    .string()
    .nullable()
    .describe('Pass as `after` for the next page; null when the run has finished and all is read.'),
  finished: z.boolean(),
});
export type EventPage = z.infer<typeof EventPage>;
