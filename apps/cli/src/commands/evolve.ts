import {
  type CreateRunRequest,
  CreateRunRequest as CreateRunRequestSchema,
  PATCH_TYPES,
  type PatchType,
} from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import type { ExitCode } from '../exit-codes.js';
import { createAndReport, uploadPath } from './submit.js';

export interface EvolveOptions {
  /** A directory (or a single file) holding `evaluate.py`. */
  evaluator?: string;
  goal?: string;
  generations?: number;
  population?: number;
  islands?: number;
  migrationInterval?: number;
  /** Comma-separated mutation models. */
  models?: string;
  novelty?: number;
  /** `diff=0.5,rewrite=0.5`: the share of each patch type; a type left out gets none. */
  patchTypes?: string;
  metaInterval?: number;
  /** The file of a PROGRAM directory to evolve. */
  program?: string;
  budgetUsd?: number;
  timeLimitMinutes?: number;
  model?: string;
  nodeConcurrency?: number;
  idempotencyKey?: string;
  watch?: boolean;
  plain?: boolean;
  json?: boolean;
}

/** Which flag to blame for a field the request schema rejects. */
const FLAG_OF_FIELD: Record<string, string> = {
  goal: '--goal',
  'evolve.generations': '--generations',
  'evolve.population': '--population',
  'evolve.islands': '--islands',
  'evolve.migrationInterval': '--migration-interval',
  'evolve.noveltyThreshold': '--novelty',
  'evolve.metaInterval': '--meta-interval',
  'evolve.patchTypes': '--patch-types',
  'evolve.program': '--program',
  budgetUsd: '--budget-usd',
  timeLimitMinutes: '--time-limit-minutes',
  model: '--model',
  'search.nodeConcurrency': '--node-concurrency',
};

/** Placeholders for the uploads while the flags are checked (the schema wants them; the real ids replace them). */
const PENDING_UPLOAD = 'upl_00000000000000000000000000';

/**
 * The request body of an evolve run (mode `evolve`) for the flags given, without its uploads; only what the user set
 * is sent. The contracts' schema checks it first, so a bad value is a usage error before anything is uploaded.
 */
export function buildEvolveRequest(options: EvolveOptions): CreateRunRequest {
  if (options.evaluator === undefined)
    throw new UsageError('--evaluator DIR is required (a directory with evaluate.py)');
  const models = options.models
    ?.split(',')
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
  if (models !== undefined && models.length === 0) throw new UsageError('--models: give at least one model name');
  const patchTypes = options.patchTypes === undefined ? undefined : parsePatchTypes(options.patchTypes);
  const settings = Object.fromEntries(
    Object.entries({
      generations: options.generations,
      population: options.population,
      islands: options.islands,
      migrationInterval: options.migrationInterval,
      noveltyThreshold: options.novelty,
      metaInterval: options.metaInterval,
      models,
      patchTypes,
      program: options.program,
    }).filter(([, value]) => value !== undefined),
  );
  const request: CreateRunRequest = { mode: 'evolve' };
  if (Object.keys(settings).length > 0) request.evolve = settings;
  if (options.goal !== undefined) request.goal = options.goal.trim();
  if (options.budgetUsd !== undefined) request.budgetUsd = options.budgetUsd;
  if (options.timeLimitMinutes !== undefined) request.timeLimitMinutes = options.timeLimitMinutes;
  if (options.model !== undefined) request.model = options.model;
  if (options.nodeConcurrency !== undefined) request.search = { nodeConcurrency: options.nodeConcurrency };
  const checked = CreateRunRequestSchema.safeParse({
    ...request,
    inputs: { code: PENDING_UPLOAD, evaluator: PENDING_UPLOAD },
  });
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => {
      const field = issue.path.join('.');
      const flag =
        FLAG_OF_FIELD[field] ??
        (field.startsWith('evolve.models')
          ? '--models'
          : field.startsWith('evolve.patchTypes')
            ? '--patch-types'
            : field);
      return `${flag}: ${issue.message}`;
    });
    throw new UsageError(problems.join('; '));
  }
  return request;
}

/** `diff=0.6,rewrite=0.4` → the shares, every type not named at 0 (naming one type alone means only that one). */
export function parsePatchTypes(text: string): Record<PatchType, number> {
  const shares: Record<PatchType, number> = { diff: 0, rewrite: 0, crossover: 0 };
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value = '1'] = part.split('=').map((p) => p.trim());
    if (!PATCH_TYPES.includes(name as PatchType))
      throw new UsageError(`--patch-types: ${name} is not a patch type (${PATCH_TYPES.join(', ')})`);
    const share = Number(value);
    if (value === '' || !Number.isFinite(share)) throw new UsageError(`--patch-types: ${part} needs a number`);
    shares[name as PatchType] = share;
  }
  return shares;
}

/**
 * `autolab evolve PROGRAM --evaluator DIR`: uploads the program (a file, or a directory with `--program` naming the
 * file to evolve when it is not obvious) as inputs.code and the evaluator as inputs.evaluator, and submits an evolve
 * run.
 */
export async function evolveCommand(ctx: CliContext, programPath: string, options: EvolveOptions): Promise<ExitCode> {
  const request = buildEvolveRequest(options);
  const json = options.json ?? false;
  const code = await uploadPath(ctx, 'program', programPath, json);
  const evaluator = await uploadPath(ctx, 'evaluator', options.evaluator!, json);
  request.inputs = { code, evaluator };
  return createAndReport(ctx, request, options);
}
