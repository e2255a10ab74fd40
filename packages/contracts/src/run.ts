import { z } from 'zod';

/** Lifecycle of a run. `queued` and `running` are live; the other three are final. */
export const RunStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
export const isFinalStatus = (status: RunStatus): boolean => FINAL_STATUSES.includes(status);

/** Where a run is in the research process. */
export const RunStage = z.enum(['planning', 'experiments', 'writeup', 'done']);
export type RunStage = z.infer<typeof RunStage>;

export const RUN_ID_PATTERN = /^run_[0-9a-z]{26}$/;
export const RunId = z.string().regex(RUN_ID_PATTERN, 'not a run id');

export const MAX_GOAL_CHARS = 8000;
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}$/;

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
  })
  .strict();
export type SandboxOptions = z.infer<typeof SandboxOptions>;

export const CreateRunRequest = z
  .object({
    goal: z
      .string()
      .trim()
      .min(10, 'the goal needs at least 10 characters')
      .max(MAX_GOAL_CHARS, `the goal may have at most ${MAX_GOAL_CHARS} characters`)
      .describe('The research question or goal, in plain language.'),
    maxIterations: z
      .number()
      .int()
      .min(1)
      .max(200)
      .default(6)
      .describe('Experiments to run at most (each is one node of the experiment tree).'),
    budgetUsd: z.number().positive().max(10000).default(5).describe('Hard cap on model spend for the run, in USD.'),
    timeLimitMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60)
      .describe('Wall-clock cap for the run.'),
    model: z
      .string()
      .regex(MODEL_NAME_PATTERN, 'model names are letters, digits and . _ : / @ -')
      .optional()
      .describe('Model name at the OpenAI-compatible endpoint; defaults to the server setting AUTOLAB_MODEL.'),
    sandbox: SandboxOptions.default({ cpus: 1, memoryMb: 2048, execTimeoutSeconds: 300 }),
  })
  .strict();
export type CreateRunRequest = z.input<typeof CreateRunRequest>;
export type RunOptions = z.output<typeof CreateRunRequest>;

export const MetricDirection = z.enum(['maximize', 'minimize']);
export type MetricDirection = z.infer<typeof MetricDirection>;

export const BestMetric = z.object({
  name: z.string(),
  value: z.number(),
  direction: MetricDirection,
  nodeId: z.string(),
  iteration: z.number().int(),
});
export type BestMetric = z.infer<typeof BestMetric>;

/** Model usage summed over a run. */
export const Usage = z.object({
  calls: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
  costUsd: z.number(),
});
export type Usage = z.infer<typeof Usage>;
export const emptyUsage = (): Usage => ({ calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0 });

export const RunError = z.object({ code: z.string(), message: z.string() });
export type RunError = z.infer<typeof RunError>;

export const RunLinks = z.object({
  self: z.string(),
  events: z.string(),
  artifacts: z.string(),
  archive: z.string(),
  cancel: z.string(),
});

export const RunRecord = z.object({
  id: z.string(),
  goal: z.string(),
  status: RunStatus,
  stage: RunStage.nullable(),
  iteration: z.number().int().describe('Experiments finished so far.'),
  maxIterations: z.number().int(),
  model: z.string(),
  budgetUsd: z.number(),
  timeLimitMinutes: z.number().int(),
  sandbox: z.object({ cpus: z.number(), memoryMb: z.number().int(), execTimeoutSeconds: z.number().int() }),
  bestMetric: BestMetric.nullable(),
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

export const ArtifactEntry = z.object({ path: z.string(), size: z.number().int(), mediaType: z.string() });
export type ArtifactEntry = z.infer<typeof ArtifactEntry>;
export const ArtifactList = z.object({ artifacts: z.array(ArtifactEntry) });
