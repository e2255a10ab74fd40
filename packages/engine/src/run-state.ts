import { ExperimentStage, emptyUsage, type RerunStage, stagesRerunFrom, Usage } from '@autolab/contracts';
import { z } from 'zod';
import { EvolveState } from './evolve-state.js';
import { HeldOutResult } from './held-out.js';
import { ExperimentNode, Operator, ResearchPlan } from './journal.js';
import { PapersState } from './papers.js';
import { Idea, PaperSections } from './persisted-shapes.js';

/**
 * Everything a run has done, saved after every model call and every experiment. A worker that picks up a run
 * (after a crash, or for a rerun) continues from here: finished steps and their model calls are not repeated.
 */
const LiteraturePaperSchema = z.object({
  id: z.string(),
  title: z.string(),
  authors: z.array(z.string()),
  year: z.number().nullable(),
  venue: z.string().nullable(),
  abstract: z.string().nullable(),
  url: z.string().nullable(),
  doi: z.string().nullable(),
  citationCount: z.number().nullable(),
});

export const SeedResult = z.object({
  nodeId: z.string(),
  seeds: z.array(z.number().int()),
  values: z.array(z.number()),
  mean: z.number(),
  std: z.number(),
  /** Seeds whose run failed or did not report the metric. */
  failed: z.array(z.number().int()),
  /**
   * Every seed gave exactly the same value: the program is deterministic or ignores SEED, so the spread says nothing
   * about chance (the paper says so instead of printing ± 0).
   */
  ignored: z.boolean().default(false),
});
export type SeedResult = z.infer<typeof SeedResult>;

export const FigureRecord = z.object({ path: z.string(), caption: z.string(), nodeId: z.string().nullable() });
export type FigureRecord = z.infer<typeof FigureRecord>;

/**
 * What the vision model said about the figures (runs with a vision model), saved as soon as it has answered so a
 * resumed run never asks again, and how far the one revision it may ask for has got.
 */
export const FigureCritique = z.object({
  model: z.string(),
  figures: z.array(z.object({ file: z.string(), verdict: z.enum(['ok', 'revise']), problems: z.array(z.string()) })),
  /** Figures it was not shown, and why. */
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
  /** Why there are no verdicts (the reply was unusable, no budget was left), or null. */
  failed: z.string().nullable(),
  /** `pending`: a figure needs revising and the revision has not finished yet. */
  revision: z.enum(['none', 'pending', 'done', 'failed']),
});
export type FigureCritique = z.infer<typeof FigureCritique>;

export function freshFigures(): RunState['figures'] {
  return { done: false, files: [], critique: null };
}

/**
 * An experiment the model has written that has started but not finished. Saved before it runs, so that a worker that
 * dies meanwhile leaves enough for the next one to run it again (same id, plan and code, no new model call).
 */
export const PendingNode = z.object({
  id: z.string(),
  stage: ExperimentStage,
  operator: Operator,
  parentId: z.string().nullable(),
  plan: z.string(),
  code: z.string(),
  /** How many attempts of the run have started it; a node that keeps taking its worker down is given up. */
  starts: z.number().int().min(1),
});
export type PendingNode = z.infer<typeof PendingNode>;

/** A node that was created and will never finish, and why: recorded so that no created node silently disappears. */
export const LostNode = PendingNode.omit({ code: true, starts: true }).extend({ reason: z.string() });
export type LostNode = z.infer<typeof LostNode>;

export const RUN_STATE_VERSION = 3;

const RunStateFields = z.object({
  /** The rerun job whose truncation has been applied, so a re-delivered rerun does not truncate twice. */
  rerunJobId: z.string().nullable(),
  usage: Usage,
  /** Usage when the current attempt of a rerun began: each rerun gets the run's budget afresh. */
  usageBaseline: Usage,
  consecutiveMalformed: z.number().int(),
  warnedUnpriced: z.boolean(),
  ideation: z
    .object({
      ideas: z.array(Idea),
      chosen: z.number().int(),
      reason: z.string(),
    })
    .nullable(),
  /** No literature service could be reached (or none is configured): the run goes on without citations. */
  literatureUnavailable: z.boolean(),
  /** Literature results by query: a rerun or resume never asks the services twice. */
  literature: z.record(z.string(), z.object({ source: z.string(), papers: z.array(LiteraturePaperSchema) })),
  /** What the user's input files hold, described inside a sandbox before ideation (null: not yet, or no inputs). */
  inputsPreview: z.string().nullable().default(null),
  /** The user's papers as read inside a sandbox before ideation: summaries and sanitised BibTeX (null: not yet, or none). */
  papers: PapersState.nullable().default(null),
  plan: ResearchPlan.nullable(),
  nodes: z.array(ExperimentNode),
  /** The node that ran the user's starting code as it is (the baseline the paper reports the gain over), or null. */
  startingCodeNodeId: z.string().nullable().default(null),
  insights: z.array(z.string()),
  search: z.object({
    stage: ExperimentStage,
    finishedStages: z.array(ExperimentStage),
    stopReason: z.string().nullable(),
  }),
  experimentsDone: z.boolean(),
  /** Content-addressed id of the experiment sandbox image (for the paper's reproducibility note and the manifest). */
  sandboxImage: z.string(),
  seeds: SeedResult.nullable(),
  seedsDone: z.boolean(),
  /** The held-out grades of the best nodes (runs with inputs.evaluation), measured after the search. */
  heldOut: HeldOutResult.nullable().default(null),
  figures: z.object({
    done: z.boolean(),
    files: z.array(FigureRecord),
    critique: FigureCritique.nullable().default(null),
  }),
  paperDone: z.boolean(),
  /** The sections of the compiled paper (the review reads them; a revision starts from them). */
  paperSections: PaperSections.nullable(),
  reviewDone: z.boolean(),
  /** Lessons across runs: those put into this run's prompts, and whether the run's own have been distilled. */
  lessons: z
    .object({
      /** Every lesson that went into a prompt, with the kinds of step that got it (the paper lists them). */
      applied: z.array(z.object({ id: z.string(), kind: z.string(), text: z.string(), steps: z.array(z.string()) })),
      /** The ids the last step of each kind got, so `lessons.applied` is sent when the set changes, not every step. */
      lastApplied: z.record(z.string(), z.array(z.string())),
      learned: z.boolean(),
    })
    .default({ applied: [], lastApplied: {}, learned: false }),
  /** Evolve mode's population and progress (docs/evolve.md); null for a research run. */
  evolve: EvolveState.nullable().default(null),
});

export const RunState = RunStateFields.extend({
  version: z.literal(RUN_STATE_VERSION),
  /** Nodes being run right now (with nodeConcurrency > 1, several). */
  pendingNodes: z.array(PendingNode),
  lostNodes: z.array(LostNode),
});
export type RunState = z.infer<typeof RunState>;

/** Version 2: in-flight nodes were not saved (a node running when its worker died was forgotten). */
const RunStateV2 = RunStateFields.extend({ version: z.literal(2) });

export function freshState(): RunState {
  return {
    version: RUN_STATE_VERSION,
    pendingNodes: [],
    lostNodes: [],
    rerunJobId: null,
    usage: emptyUsage(),
    usageBaseline: emptyUsage(),
    consecutiveMalformed: 0,
    warnedUnpriced: false,
    ideation: null,
    literatureUnavailable: false,
    literature: {},
    inputsPreview: null,
    papers: null,
    plan: null,
    nodes: [],
    startingCodeNodeId: null,
    insights: [],
    search: { stage: 'baseline', finishedStages: [], stopReason: null },
    experimentsDone: false,
    sandboxImage: '',
    seeds: null,
    seedsDone: false,
    heldOut: null,
    figures: freshFigures(),
    paperDone: false,
    paperSections: null,
    reviewDone: false,
    lessons: { applied: [], lastApplied: {}, learned: false },
    evolve: null,
  };
}

/**
 * A saved state, brought up to the current version, or a fresh one when there is none (or it is from an unknown
 * version). Every earlier version that a deployed worker may have written keeps loading.
 */
export function restoreState(checkpoint: unknown): { state: RunState; restored: boolean } {
  const current = RunState.safeParse(checkpoint);
  if (current.success) return { state: current.data, restored: true };
  const v2 = RunStateV2.safeParse(checkpoint);
  if (v2.success) {
    return { state: { ...v2.data, version: RUN_STATE_VERSION, pendingNodes: [], lostNodes: [] }, restored: true };
  }
  return { state: freshState(), restored: false };
}

/**
 * Forgets `fromStage` and everything after it, keeping what came before: a rerun from `writeup` keeps the ideas,
 * the experiments, the seeds and the figures, and writes and reviews the paper again.
 */
export function truncateForRerun(state: RunState, fromStage: RerunStage, jobId: string): RunState {
  const next = structuredClone(state);
  next.rerunJobId = jobId;
  next.usageBaseline = { ...next.usage };
  next.consecutiveMalformed = 0;
  const redo = new Set(stagesRerunFrom(fromStage));
  if (redo.has('experiments')) {
    next.nodes = [];
    next.startingCodeNodeId = null;
    next.pendingNodes = [];
    next.lostNodes = [];
    next.insights = [];
    next.search = { stage: 'baseline', finishedStages: [], stopReason: null };
    next.experimentsDone = false;
    next.seeds = null;
    next.seedsDone = false;
    next.heldOut = null;
  }
  if (redo.has('figures')) next.figures = freshFigures();
  if (redo.has('writeup')) {
    next.paperDone = false;
    next.paperSections = null;
  }
  next.reviewDone = false;
  // A rerun is distilled again when it ends (merging is idempotent, so what it repeats adds nothing).
  next.lessons.learned = false;
  return next;
}

/** Spend of the current attempt (since the run started, or since its rerun began). */
export function spentSince(state: RunState): { costUsd: number; tokens: number } {
  return {
    costUsd: state.usage.costUsd - state.usageBaseline.costUsd,
    tokens: state.usage.totalTokens - state.usageBaseline.totalTokens,
  };
}
