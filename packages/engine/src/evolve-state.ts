import { CandidateOrigin } from '@autolab/contracts';
import type { BanditState, Candidate, ProgramDatabaseState, RngState } from '@autolab/evolve';
import { z } from 'zod';

/**
 * What an evolve run has done, kept in the run's checkpoint (`RunState.evolve`): the program database (ids and numbers;
 * each program is an artifact), the random generator, the bandit, the generation being worked on, and the within-run
 * memory. A worker that picks the run up continues the generation where it stopped: a child that was written but not
 * evaluated is evaluated without asking the model again, and an evaluated one is never run twice.
 */

/** A candidate in the database: the core fields plus what the events and the report show. */
export interface EvolveCandidate extends Candidate {
  /** The model's one-line account of its change (the initial program's: "the program as uploaded"). */
  summary: string;
  durationMs: number;
  /** For a rejected candidate: the program it resembled, and how closely. */
  similarTo: string | null;
  similarity: number | null;
}

/** One child of the current generation: planned (parent and patch type drawn), written, or done. */
export const ChildSlot = z.object({
  island: z.number().int(),
  parentIds: z.array(z.string()),
  origin: CandidateOrigin,
  /** Set once the model's child is written (its program saved as an artifact before it runs). */
  candidateId: z.string().nullable(),
  summary: z.string().nullable(),
  /** Children of this slot rejected as too similar (the model is asked again, a few times). */
  rejected: z.number().int(),
  done: z.boolean(),
});
export type ChildSlot = z.infer<typeof ChildSlot>;

export const Recommendation = z.object({ text: z.string(), candidateIds: z.array(z.string()) });
export type Recommendation = z.infer<typeof Recommendation>;

export const EvolveState = z.object({
  /** The evolved file's path inside inputs.code. */
  fileName: z.string(),
  /** The candidate ids handed out so far (c000 is the initial program). */
  nextId: z.number().int(),
  database: z.custom<ProgramDatabaseState<EvolveCandidate>>(
    (value) => typeof value === 'object' && value !== null && (value as { version?: unknown }).version === 1,
  ),
  rng: z.custom<RngState>((value) => typeof value === 'object' && value !== null),
  bandit: z.custom<BanditState>((value) => typeof value === 'object' && value !== null),
  /** Generations finished (0: only the initial program is evaluated). */
  generation: z.number().int(),
  /** The generation being worked on, once its model and children are drawn. */
  current: z.object({ generation: z.number().int(), model: z.string(), slots: z.array(ChildSlot) }).nullable(),
  allocations: z.array(z.object({ generation: z.number().int(), model: z.string(), reason: z.string() })),
  rejections: z.number().int(),
  recommendations: z.array(Recommendation),
  /** Why the evolution stopped (generations done, budget, time), once it has. */
  stopReason: z.string().nullable(),
  reportDone: z.boolean(),
});
export type EvolveState = z.infer<typeof EvolveState>;

export const candidateIdFor = (sequence: number): string => `c${String(sequence).padStart(3, '0')}`;
