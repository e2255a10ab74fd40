import { readFile } from 'node:fs/promises';
import type { CreatedUpload, UploadBody } from '@autolab/api-client';
import {
  type CreateRunRequest,
  CreateRunRequest as CreateRunRequestSchema,
  HeldOutMetric,
  MetricDirection,
} from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatBytes } from '../human-format.js';
import { collectFiles, multipartBody } from '../upload-files.js';
import { progressLine } from './download.js';
import { watchRun } from './watch.js';

export interface SubmitOptions {
  file?: string;
  maxIterations?: number;
  budgetUsd?: number;
  timeLimitMinutes?: number;
  model?: string;
  /** A model per role; each left out uses `model` (then the server's defaults). */
  modelCode?: string;
  modelJudge?: string;
  modelWriteup?: string;
  modelReview?: string;
  modelIdeas?: string;
  /** A model that sees images (the figure critique); `none` turns the server's default off. */
  modelVision?: string;
  cpus?: number;
  memoryMb?: number;
  execTimeoutSeconds?: number;
  /** A sandbox image by name (`GET /v1/images`). */
  image?: string;
  maxTokens?: number;
  numDrafts?: number;
  debugProb?: number;
  maxDebugDepth?: number;
  nodeConcurrency?: number;
  numIdeas?: number;
  reflections?: number;
  reviewers?: number;
  revise?: boolean;
  seeds?: number;
  pageLimit?: number;
  idempotencyKey?: string;
  /** A file or directory to upload as the run's data (read-only at /workspace/input/data/). */
  data?: string;
  /** A file or directory to upload as the run's starting code (/workspace/input/code/). */
  code?: string;
  /** A file or directory with the held-out answers (never shown to the agent). */
  hidden?: string;
  /** The grading program (a file or directory with grade.py) for the held-out test. */
  grader?: string;
  /** A built-in held-out metric instead of a grader. */
  metric?: string;
  direction?: string;
  /** A file or directory of papers (PDFs, .bib files) to upload: ideation builds on them and the paper cites them. */
  papers?: string;
  /** A built-in template to start from (`autolab templates`); its goal is used when none is given. */
  template?: string;
  watch?: boolean;
  plain?: boolean;
  json?: boolean;
}

/** Which flag to blame for a field the request schema rejects. */
const FLAG_OF_FIELD: Record<string, string> = {
  goal: 'goal',
  maxIterations: '--max-iterations',
  budgetUsd: '--budget-usd',
  timeLimitMinutes: '--time-limit-minutes',
  model: '--model',
  'models.code': '--model-code',
  'models.judge': '--model-judge',
  'models.writeup': '--model-writeup',
  'models.review': '--model-review',
  'models.ideas': '--model-ideas',
  'models.vision': '--model-vision',
  'sandbox.cpus': '--cpus',
  'sandbox.memoryMb': '--memory-mb',
  'sandbox.execTimeoutSeconds': '--exec-timeout-seconds',
  'sandbox.image': '--image',
  maxTokens: '--max-tokens',
  'search.numDrafts': '--num-drafts',
  'search.debugProb': '--debug-prob',
  'search.maxDebugDepth': '--max-debug-depth',
  'search.nodeConcurrency': '--node-concurrency',
  'ideation.numIdeas': '--num-ideas',
  'ideation.reflections': '--reflections',
  'review.reviewers': '--reviewers',
  'review.revise': '--revise',
  seeds: '--seeds',
  pageLimit: '--page-limit',
  'inputs.template': '--template',
};

/** The options set, without the ones left `undefined`; `undefined` when none is set (the group is then not sent). */
function group<T extends object>(fields: T): T | undefined {
  const set = Object.entries(fields).filter(([, value]) => value !== undefined);
  return set.length > 0 ? (Object.fromEntries(set) as T) : undefined;
}

/**
 * The goal from the words on the command line, from `--file`, or from standard input (`-`). With `optional` (a
 * template gives the goal), no goal at all is '' rather than an error.
 */
export async function resolveGoal(
  words: string[],
  file: string | undefined,
  readStdin: () => Promise<string>,
  optional = false,
): Promise<string> {
  if (file !== undefined && words.length > 0) {
    throw new UsageError('give the goal either as arguments or with --file, not both');
  }
  if (file === '-' || (words.length === 1 && words[0] === '-')) return readStdin();
  if (file !== undefined) {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new UsageError(`cannot read the goal file ${file} (${code})`);
    }
  }
  if (words.length === 0) {
    if (optional) return '';
    throw new UsageError('no goal: give it as arguments, with --file FILE, or as - to read standard input');
  }
  return words.join(' ');
}

/**
 * The request body for the options given. Only what the user set is sent, so the server's defaults apply to the rest
 * (the model above all); the contracts' schema checks it here first, so a bad value is a usage error before any
 * network traffic.
 */
export function buildCreateRunRequest(goal: string, options: SubmitOptions): CreateRunRequest {
  // Without a goal the template's is used (the schema refuses a request with neither).
  const request: CreateRunRequest = goal.trim() ? { goal: goal.trim() } : {};
  if (options.maxIterations !== undefined) request.maxIterations = options.maxIterations;
  if (options.budgetUsd !== undefined) request.budgetUsd = options.budgetUsd;
  if (options.timeLimitMinutes !== undefined) request.timeLimitMinutes = options.timeLimitMinutes;
  if (options.model !== undefined) request.model = options.model;
  const models = group({
    code: options.modelCode,
    judge: options.modelJudge,
    writeup: options.modelWriteup,
    review: options.modelReview,
    ideas: options.modelIdeas,
    vision: options.modelVision === 'none' ? null : options.modelVision,
  });
  if (models) request.models = models;
  const sandbox = group({
    cpus: options.cpus,
    memoryMb: options.memoryMb,
    execTimeoutSeconds: options.execTimeoutSeconds,
    image: options.image,
  });
  if (sandbox) request.sandbox = sandbox;
  if (options.maxTokens !== undefined) request.maxTokens = options.maxTokens;
  const search = group({
    numDrafts: options.numDrafts,
    debugProb: options.debugProb,
    maxDebugDepth: options.maxDebugDepth,
    nodeConcurrency: options.nodeConcurrency,
  });
  if (search) request.search = search;
  const ideation = group({ numIdeas: options.numIdeas, reflections: options.reflections });
  if (ideation) request.ideation = ideation;
  const review = group({ reviewers: options.reviewers, revise: options.revise });
  if (review) request.review = review;
  if (options.seeds !== undefined) request.seeds = options.seeds;
  if (options.pageLimit !== undefined) request.pageLimit = options.pageLimit;
  if (options.template !== undefined) request.inputs = { template: options.template };
  // Said here, before `--code` is uploaded (the server would refuse the pair too).
  if (options.template !== undefined && options.code !== undefined)
    throw new UsageError('--template and --code: a run has one starting program; give one of them');

  checkEvaluationFlags(options);
  const checked = CreateRunRequestSchema.safeParse(request);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => {
      const field = issue.path.join('.');
      return `${FLAG_OF_FIELD[field] ?? field}: ${issue.message}`;
    });
    throw new UsageError(problems.join('; '));
  }
  return request;
}

/** The held-out flags go together: `--hidden` with exactly one of `--grader` and `--metric`. */
function checkEvaluationFlags(options: SubmitOptions): void {
  const { hidden, grader, metric, direction } = options;
  if (hidden === undefined) {
    if (grader !== undefined || metric !== undefined || direction !== undefined)
      throw new UsageError('--grader, --metric and --direction need --hidden PATH (the held-out answers)');
    return;
  }
  if ((grader === undefined) === (metric === undefined))
    throw new UsageError('--hidden needs either --grader FILE or --metric NAME (one of them)');
  if (metric !== undefined && !HeldOutMetric.safeParse(metric).success)
    throw new UsageError(`--metric: one of ${HeldOutMetric.options.join(', ')}`);
  if (direction !== undefined && !MetricDirection.safeParse(direction).success)
    throw new UsageError('--direction: maximize or minimize');
}

/**
 * Uploads a file or a directory as one upload (a progress line on a terminal; the upload's id, file count and skipped
 * files on stderr unless `json`) and returns its id. `label` names it in those lines (`data`, `evaluator`, …).
 */
export async function uploadPath(ctx: CliContext, label: string, path: string, json: boolean): Promise<string> {
  const files = await collectFiles(path);
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const progress = progressLine(ctx);
  progress?.start(`uploading ${label}`, total);
  let upload: CreatedUpload;
  try {
    const multipart = multipartBody(files, (bytes) => progress?.update(Math.min(bytes, total)));
    upload = await ctx.client.createUpload({
      body: multipart.stream as unknown as UploadBody['body'],
      contentType: multipart.contentType,
      contentLength: multipart.length,
    });
  } finally {
    progress?.clear();
  }
  if (!json) {
    ctx.io.err(`${label}: ${upload.id} (${upload.fileCount} file(s), ${formatBytes(upload.bytes)})\n`);
    for (const s of upload.skipped) ctx.io.err(`  skipped ${s.path}: ${s.reason}\n`);
  }
  return upload.id;
}

/**
 * Uploads `--data`, `--code`, `--papers`, `--hidden` and `--grader` (a progress line on a terminal) and returns the
 * run's inputs with their upload ids.
 */
async function uploadInputs(ctx: CliContext, options: SubmitOptions): Promise<CreateRunRequest['inputs']> {
  const ids: Partial<Record<'data' | 'code' | 'papers' | 'hidden' | 'grader', string>> = {};
  for (const kind of ['data', 'code', 'papers', 'hidden', 'grader'] as const) {
    const path = options[kind];
    if (path !== undefined) ids[kind] = await uploadPath(ctx, kind, path, options.json ?? false);
  }
  const inputs: NonNullable<CreateRunRequest['inputs']> = {};
  if (ids.data) inputs.data = ids.data;
  if (ids.code) inputs.code = ids.code;
  if (ids.papers) inputs.papers = ids.papers;
  if (ids.hidden) {
    inputs.evaluation = {
      hidden: ids.hidden,
      ...(ids.grader ? { grader: ids.grader } : { metric: options.metric as HeldOutMetric }),
      ...(options.direction ? { direction: options.direction as MetricDirection } : {}),
    };
  }
  return Object.keys(inputs).length > 0 ? inputs : undefined;
}

export async function submitCommand(ctx: CliContext, words: string[], options: SubmitOptions): Promise<ExitCode> {
  const goal = await resolveGoal(words, options.file, ctx.io.readStdin, options.template !== undefined);
  // Checked before anything is uploaded: a bad flag costs no transfer.
  const request = buildCreateRunRequest(goal, options);
  const inputs = await uploadInputs(ctx, options);
  if (inputs) request.inputs = { ...request.inputs, ...inputs };
  return createAndReport(ctx, request, options);
}

/** Creates the run, prints its id and links (or its record as JSON), then follows it with `watch`. */
export async function createAndReport(
  ctx: CliContext,
  request: CreateRunRequest,
  options: { idempotencyKey?: string; json?: boolean; plain?: boolean; watch?: boolean },
): Promise<ExitCode> {
  const run = await ctx.client.createRun(request, { idempotencyKey: options.idempotencyKey });
  if (options.json) {
    ctx.io.out(`${JSON.stringify(run)}\n`);
  } else {
    ctx.io.out(`${run.id}\n`);
    ctx.io.out(`  status     ${run.status}\n`);
    ctx.io.out(`  dashboard  ${ctx.client.url(run.links.dashboard)}\n`);
    ctx.io.out(`  run        ${ctx.client.url(run.links.self)}\n`);
    ctx.io.out(`  events     ${ctx.client.url(run.links.events)}\n`);
    ctx.io.out(`  artifacts  ${ctx.client.url(run.links.artifacts)}\n`);
    ctx.io.out(`  archive    ${ctx.client.url(run.links.archive)}\n`);
    if (!options.watch) ctx.io.out(`watch it with: autolab watch ${run.id}\n`);
  }
  if (!options.watch) return ExitCode.Ok;
  return watchRun(ctx, run.id, { json: options.json ?? false, plain: options.plain ?? false });
}
