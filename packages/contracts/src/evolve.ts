import { z } from 'zod';
import { ModelName } from './models.js';

/**
 * Evolve mode (docs/evolve.md): the user's program and evaluator in, a population of better programs out. The model is
 * the mutation operator; every candidate is scored by the user's `evaluate.py` in a sandbox.
 */

/** How a candidate was written from its parent(s). `initial`: the user's program as uploaded. */
export const PATCH_TYPES = ['diff', 'rewrite', 'crossover'] as const;
export const PatchType = z.enum(PATCH_TYPES);
export type PatchType = z.infer<typeof PatchType>;
export const CandidateOrigin = z.enum(['initial', ...PATCH_TYPES]);
export type CandidateOrigin = z.infer<typeof CandidateOrigin>;

/**
 * What became of a candidate: `evaluated` (correct, with a score: it may be a parent and an elite), `incorrect` (the
 * evaluator ran and said `correct: false`), `failed` (the patch did not apply, or the evaluator crashed or wrote no
 * score), `rejected` (too similar to an existing program: never run).
 */
export const CandidateStatus = z.enum(['evaluated', 'incorrect', 'failed', 'rejected']);
export type CandidateStatus = z.infer<typeof CandidateStatus>;

export const PatchMix = z
  .object({
    diff: z.number().min(0).max(1).default(0.6).describe('Share of children written as search/replace edits.'),
    rewrite: z.number().min(0).max(1).default(0.3).describe('Share written as a full rewrite of the evolve blocks.'),
    crossover: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe('Share written from two parents (the second from another island or the elites).'),
  })
  .strict()
  .refine((m) => m.diff + m.rewrite + m.crossover > 0, { message: 'at least one patch type needs a share above 0' });
export type PatchMix = z.infer<typeof PatchMix>;

export const EvolvePolicy = z
  .object({
    generations: z.number().int().min(1).max(500).default(10).describe('Generations to run at most.'),
    population: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Children written per generation (spread over the islands).'),
    islands: z.number().int().min(1).max(16).default(2).describe('Sub-populations that evolve apart.'),
    migrationInterval: z
      .number()
      .int()
      .min(1)
      .max(500)
      .default(5)
      .describe("Every this many generations each island receives its neighbour's best."),
    patchTypes: PatchMix.default({ diff: 0.6, rewrite: 0.3, crossover: 0.1 }),
    noveltyThreshold: z
      .number()
      .min(0.5)
      .max(1)
      .default(0.99)
      .describe(
        'A child at least this similar to an existing program (token pairs, or embeddings) is rejected before it runs and the model is asked again (1: only exact repeats). One changed constant in a 300-token program is about 0.987.',
      ),
    models: z
      .array(ModelName)
      .min(1)
      .max(8)
      .optional()
      .describe(
        "Mutation models; with more than one, a bandit gives each generation's children to the model whose children improved most for their cost. Default: the run's code model.",
      ),
    program: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe(
        'The file of inputs.code to evolve (a path inside the upload); default its only top-level file, or program.py, or main.py.',
      ),
    metaInterval: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe(
        'Every this many generations the model reads recent successes and failures and writes recommendations for later mutation prompts (0: never).',
      ),
  })
  .strict();
export type EvolvePolicy = z.infer<typeof EvolvePolicy>;
export const DEFAULT_EVOLVE_POLICY: z.input<typeof EvolvePolicy> = {};

/** The goal of an evolve run that states none. */
export const DEFAULT_EVOLVE_GOAL = "Improve the program's score as its evaluator measures it, keeping it correct.";

/**
 * The program of an upload that evolve mode improves: the file `evolve.program` names, else the upload's only
 * top-level file, else a top-level `program.py` or `main.py`; null when none of these is there.
 */
export function evolveProgramEntry(paths: string[], named?: string): string | null {
  if (named !== undefined) return paths.includes(named) ? named : null;
  const topLevel = paths.filter((p) => !p.includes('/'));
  if (topLevel.length === 1) return topLevel[0]!;
  for (const name of ['program.py', 'main.py']) if (topLevel.includes(name)) return name;
  return null;
}

/** The evaluator of an upload: `evaluate.py` at its top level, or its only top-level `.py` file; null if neither. */
export function evaluatorEntryPoint(paths: string[]): string | null {
  const topLevel = paths.filter((p) => !p.includes('/') && p.endsWith('.py'));
  if (topLevel.includes('evaluate.py')) return 'evaluate.py';
  return topLevel.length === 1 ? topLevel[0]! : null;
}

/** A candidate as events and the API show it. */
export const CandidateSummary = z.object({
  candidateId: z.string(),
  generation: z.number().int(),
  island: z.number().int(),
  parentIds: z.array(z.string()),
  origin: CandidateOrigin,
  model: z.string().nullable().describe('The model that wrote it; null for the initial program.'),
});
export type CandidateSummary = z.infer<typeof CandidateSummary>;

/** A candidate as `evolve/database.json` records it (its program is `evolve/candidates/<id>/program.<ext>`). */
export const CandidateRecord = CandidateSummary.extend({
  status: CandidateStatus,
  score: z.number().nullable(),
  metrics: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  summary: z.string().describe("The model's one-line account of its change."),
  children: z.number().int(),
  durationMs: z.number().int(),
  similarTo: z.string().nullable().describe('For a rejected candidate: the program it resembled.'),
  similarity: z.number().nullable(),
});
export type CandidateRecord = z.infer<typeof CandidateRecord>;

/**
 * `evolve/database.json`: the whole population, rewritten after every generation (the dashboard, the CLI's `tree`
 * and the archive read it). Paths are artifact paths of the run.
 */
export const EvolveDatabaseFile = z.object({
  direction: z.enum(['maximize', 'minimize']),
  program: z.string().describe('The evolved file’s name inside inputs.code.'),
  generation: z.number().int().describe('Generations finished.'),
  candidates: z.array(CandidateRecord),
  islands: z.array(z.array(z.string())).describe('Candidate ids on each island.'),
  elites: z.array(z.string()).describe('The archive: the best correct candidates over all islands, best first.'),
  best: z.string().nullable(),
  bestByGeneration: z.array(
    z.object({ generation: z.number().int(), candidateId: z.string().nullable(), score: z.number().nullable() }),
  ),
  lineage: z.array(z.string()).describe('The best candidate and its first parents back to the initial program.'),
  models: z.array(
    z.object({ model: z.string(), pulls: z.number().int(), improvements: z.number().int(), costUsd: z.number() }),
  ),
  allocations: z.array(z.object({ generation: z.number().int(), model: z.string(), reason: z.string() })),
  rejections: z.number().int(),
  recommendations: z.array(z.object({ text: z.string(), candidateIds: z.array(z.string()) })),
});
export type EvolveDatabaseFile = z.infer<typeof EvolveDatabaseFile>;

// Where evolve mode keeps its files: zod-free, for the dashboard (`@autolab/contracts/evolve-artifacts`).
export { EVOLVE_ARTIFACTS } from './evolve-artifacts.js';
