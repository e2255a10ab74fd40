import { CandidateOrigin, CandidateStatus } from '@autolab/contracts';
import { z } from 'zod';

/**
 * The program database of an evolve run: every candidate with its parents, the model that wrote it, its metrics and
 * its correctness; the islands that evolve apart; and an archive of elites. It holds ids and numbers only (the
 * programs themselves are artifacts), so its JSON state stays small enough for the run's checkpoint.
 *
 * Statuses (`CandidateStatus` in contracts): `evaluated`: ran and the evaluator said correct, with a score.
 * `incorrect`: ran, and the evaluator said it is not correct. `failed`: the patch did not apply or the evaluation
 * crashed / timed out. `rejected`: too similar to an existing candidate, never run.
 */

export type { CandidateOrigin, CandidateStatus, PatchType } from '@autolab/contracts';
export type Direction = 'maximize' | 'minimize';
const Direction = z.enum(['maximize', 'minimize']);

export interface Candidate {
  id: string;
  generation: number;
  /** The island it was born on (a migrant keeps its home island; other islands hold a reference to it). */
  island: number;
  /** The parent first; a crossover's other parents after it. Empty for the initial program. */
  parentIds: string[];
  /** How it was written (`CandidateOrigin` in contracts); `initial` for the user's program. */
  patchType: CandidateOrigin;
  /** The model that wrote it; null for the initial program. */
  model: string | null;
  status: CandidateStatus;
  score: number | null;
  metrics: Record<string, number>;
  error: string | null;
  /** Children sampled from it so far (raised by `recordChild`); lowers its weight as a parent. */
  children: number;
}
/** A candidate as the checkpoint holds it; fields beyond these (a richer record's) are kept. */
export const Candidate = z.looseObject({
  id: z.string(),
  generation: z.number().int().min(0),
  island: z.number().int().min(0),
  parentIds: z.array(z.string()),
  patchType: CandidateOrigin,
  model: z.string().nullable(),
  status: CandidateStatus,
  score: z.number().nullable(),
  metrics: z.record(z.string(), z.number()),
  error: z.string().nullable(),
  children: z.number().int().min(0),
});

export interface DatabaseOptions {
  islands: number;
  /** Elites kept over all islands. @defaultValue 20 */
  archiveSize?: number;
  direction: Direction;
  /** λ of the parent-sampling weight: 0 samples by children alone, larger exploits the best harder. @defaultValue 10 */
  lambda?: number;
}

export interface ProgramDatabaseState<C extends Candidate = Candidate> {
  version: 1;
  direction: Direction;
  archiveSize: number;
  lambda: number;
  /** In the order they were added. */
  candidates: C[];
  /** Per island, the ids of its members in the order they joined (its own candidates and migrants). */
  islands: string[][];
  /** Ids of the elites, best first. */
  archive: string[];
  /** The generation of the last migration (0: none yet); a migration is never repeated for a generation. */
  lastMigration: number;
}
/**
 * The database's checkpoint shape, checked when a run resumes. Change it only compatibly (a new field gets a default),
 * so that a checkpoint written by an earlier version stays readable.
 */
export const ProgramDatabaseState = z.object({
  version: z.literal(1),
  direction: Direction,
  archiveSize: z.number().int().min(1),
  lambda: z.number().min(0),
  candidates: z.array(Candidate),
  islands: z.array(z.array(z.string())).min(1),
  archive: z.array(z.string()),
  lastMigration: z.number().int().min(0).default(0),
});

export interface Migration {
  candidateId: string;
  from: number;
  to: number;
  score: number;
}

export interface GenerationBest {
  generation: number;
  /** The best correct candidate of this generation or any before it; null until the first correct one. */
  candidateId: string | null;
  score: number | null;
}

/** Anything that draws uniformly from [0, 1); `SeededRng` in a run, so the draws resume with the checkpoint. */
export interface Random {
  next(): number;
}

export const DEFAULT_ARCHIVE_SIZE = 20;
export const DEFAULT_LAMBDA = 10;

/** A correct candidate with a score: the only kind that becomes a parent, an inspiration or an elite. */
export const isEligible = (c: Candidate): boolean => c.status === 'evaluated' && Number.isFinite(c.score);

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * `C` may carry more fields than `Candidate` (a one-line summary, a duration, what a rejected one resembled): they are
 * kept and returned as given.
 */
export class ProgramDatabase<C extends Candidate = Candidate> {
  private readonly state: ProgramDatabaseState<C>;
  private readonly byId = new Map<string, C>();

  private constructor(state: ProgramDatabaseState<C>) {
    this.state = state;
    for (const candidate of state.candidates) this.byId.set(candidate.id, candidate);
  }

  static create<C extends Candidate = Candidate>(options: DatabaseOptions): ProgramDatabase<C> {
    if (!Number.isInteger(options.islands) || options.islands < 1) {
      throw new Error(`an evolve run needs at least one island (got ${options.islands})`);
    }
    return new ProgramDatabase<C>({
      version: 1,
      direction: options.direction,
      archiveSize: options.archiveSize ?? DEFAULT_ARCHIVE_SIZE,
      lambda: options.lambda ?? DEFAULT_LAMBDA,
      candidates: [],
      islands: Array.from({ length: options.islands }, () => []),
      archive: [],
      lastMigration: 0,
    });
  }

  /** Reads a checkpointed state; throws when it is not one (a zod error) or its ids do not add up. */
  static fromJSON<C extends Candidate = Candidate>(json: unknown): ProgramDatabase<C> {
    const state = ProgramDatabaseState.parse(json) as ProgramDatabaseState<C>;
    const ids = new Set(state.candidates.map((c) => c.id));
    const unknown = [...state.islands.flat(), ...state.archive].find((id) => !ids.has(id));
    if (unknown !== undefined) {
      throw new Error(`the program database refers to a candidate ${unknown} it does not hold`);
    }
    return new ProgramDatabase(state);
  }

  toJSON(): ProgramDatabaseState<C> {
    return structuredClone(this.state);
  }

  get direction(): Direction {
    return this.state.direction;
  }

  get islandCount(): number {
    return this.state.islands.length;
  }

  get size(): number {
    return this.state.candidates.length;
  }

  get(id: string): C | undefined {
    return this.byId.get(id);
  }

  /** Every candidate, in the order added. */
  candidates(): readonly C[] {
    return this.state.candidates;
  }

  /** The members of one island (its own candidates and migrants), in the order they joined. */
  islandMembers(island: number): C[] {
    return this.islandIds(island).map((id) => this.byId.get(id)!);
  }

  /** The elites, best first. */
  elites(): C[] {
    return this.state.archive.map((id) => this.byId.get(id)!);
  }

  /** True when `a` scores strictly better than `b` in the run's direction. */
  isBetter(a: number, b: number): boolean {
    return this.state.direction === 'maximize' ? a > b : a < b;
  }

  /**
   * Records a candidate of any status (a copy: later changes to the object passed in do not reach the database). Only
   * a correct one with a finite score can become a parent or an elite.
   */
  add(candidate: C): void {
    if (this.byId.has(candidate.id)) throw new Error(`candidate ${candidate.id} is already in the program database`);
    this.islandIds(candidate.island);
    if (candidate.status === 'evaluated' && !Number.isFinite(candidate.score)) {
      throw new Error(`candidate ${candidate.id} is evaluated but has no finite score (${String(candidate.score)})`);
    }
    // As JSON will keep them: -0 becomes 0 and a metric that is not a finite number is left out.
    const stored: C = {
      ...structuredClone(candidate),
      score: candidate.score === 0 ? 0 : candidate.score,
      metrics: Object.fromEntries(
        Object.entries(candidate.metrics)
          .filter(([, value]) => Number.isFinite(value))
          .map(([name, value]) => [name, value === 0 ? 0 : value]),
      ),
    };
    this.state.candidates.push(stored);
    this.byId.set(stored.id, stored);
    this.state.islands[stored.island]!.push(stored.id);
    if (isEligible(stored)) this.admitToArchive(stored);
  }

  /** Records the initial program on every island (each island's first member), so every island has a parent. */
  seed(candidate: C): void {
    this.add(candidate);
    this.state.islands.forEach((ids, island) => {
      if (island !== candidate.island) ids.push(candidate.id);
    });
  }

  /** One more child was sampled from `parentId`: it weighs less as a parent from now on. */
  recordChild(parentId: string): void {
    const parent = this.byId.get(parentId);
    if (!parent) throw new Error(`no candidate ${parentId} in the program database`);
    parent.children += 1;
  }

  /** Whether a child scored strictly better than its first parent (the bandit's reward). */
  improvesOnParent(child: C): boolean {
    const parent = child.parentIds[0] ? this.byId.get(child.parentIds[0]) : undefined;
    return isEligible(child) && !!parent && isEligible(parent) && this.isBetter(child.score!, parent.score!);
  }

  /**
   * The parent-sampling weight of each correct candidate on `island`:
   *
   *     w_i = sigmoid(λ · (r_i − 0.5)) / (1 + children_i)
   *
   * where r_i = 1 − (number of the island's correct candidates strictly better than i) / (n − 1) is i's normalised
   * rank among the n correct candidates of the island (1 = best, 0 = worst, 1 for a lone candidate; ties share a
   * rank), λ (`lambda`, default 10) sets how hard the best are exploited, and children_i is how many children were
   * already sampled from i, so a parent that has been tried often gives way to its siblings.
   */
  parentWeights(island: number): { candidate: C; rank: number; weight: number }[] {
    const pool = this.eligibleOn(island);
    const n = pool.length;
    const bestFirst = pool
      .map((c) => c.score!)
      .sort((a, b) => (this.isBetter(a, b) ? -1 : this.isBetter(b, a) ? 1 : 0));
    const strictlyBetterThan = (score: number): number => {
      let [lo, hi] = [0, n];
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.isBetter(bestFirst[mid]!, score)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return pool.map((candidate) => {
      const better = strictlyBetterThan(candidate.score!);
      const rank = n === 1 ? 1 : 1 - better / (n - 1);
      return { candidate, rank, weight: sigmoid(this.state.lambda * (rank - 0.5)) / (1 + candidate.children) };
    });
  }

  /**
   * Draws a parent on `island` by `parentWeights`; null when the island has no correct candidate. The parent may be a
   * migrant from another island: its child belongs to `island` all the same.
   */
  sampleParent(island: number, rng: Random): C | null {
    const weights = this.parentWeights(island);
    const total = weights.reduce((sum, w) => sum + w.weight, 0);
    if (weights.length === 0 || !(total > 0)) return null;
    let draw = rng.next() * total;
    for (const { candidate, weight } of weights) {
      draw -= weight;
      if (draw < 0) return candidate;
    }
    return weights[weights.length - 1]!.candidate;
  }

  /**
   * Up to `k` other programs to show the model beside the parent (context, or the second parent of a crossover): the
   * island's best, then elites from other islands drawn at random. `exclude` (the parent) is never returned.
   */
  inspirations(island: number, k: number, rng: Random, exclude: readonly string[] = []): C[] {
    if (k <= 0) return [];
    const skip = new Set(exclude);
    const chosen: C[] = [];
    const islandBest = this.bestOf(this.eligibleOn(island).filter((c) => !skip.has(c.id)));
    if (islandBest) {
      chosen.push(islandBest);
      skip.add(islandBest.id);
    }
    const pool = this.elites().filter((c) => c.island !== island && !skip.has(c.id));
    while (chosen.length < k && pool.length > 0) {
      chosen.push(pool.splice(Math.floor(rng.next() * pool.length), 1)[0]!);
    }
    return chosen;
  }

  /**
   * The second parent of a crossover: an elite drawn at random from those the island does not hold (another island's
   * best programs), else from the island's own elites; never `parentId`. Null when there is no other elite.
   */
  sampleMate(island: number, parentId: string, rng: Random): C | null {
    const members = new Set(this.islandIds(island));
    const elites = this.elites().filter((c) => c.id !== parentId);
    const foreign = elites.filter((c) => !members.has(c.id));
    const pool = foreign.length > 0 ? foreign : elites;
    return pool.length > 0 ? pool[Math.floor(rng.next() * pool.length)]! : null;
  }

  /**
   * Every `interval` generations (at generations interval, 2·interval, …) each island i sends its best correct
   * candidate to island (i + 1) mod n, as a reference (the candidate is not copied or re-run). The bests are taken
   * before anything moves, and an island that already holds the migrant receives nothing. A generation migrates at
   * most once (a resumed run that calls this again for the same generation moves nothing). Returns what moved, for
   * the event.
   */
  migrate(generation: number, interval: number): Migration[] {
    const n = this.state.islands.length;
    if (n < 2 || interval <= 0 || generation <= 0 || generation % interval !== 0) return [];
    if (generation <= this.state.lastMigration) return [];
    this.state.lastMigration = generation;
    const bests = this.state.islands.map((_, island) => this.bestOf(this.eligibleOn(island)));
    const moved: Migration[] = [];
    bests.forEach((best, from) => {
      const to = (from + 1) % n;
      const target = this.state.islands[to]!;
      if (!best || target.includes(best.id)) return;
      target.push(best.id);
      moved.push({ candidateId: best.id, from, to, score: best.score! });
    });
    return moved;
  }

  /** The best correct candidate of the run, or null when none is correct yet. */
  best(): C | null {
    const id = this.state.archive[0];
    return id ? this.byId.get(id)! : null;
  }

  /**
   * The best-so-far per generation, from generation 0 to the latest one with a candidate: the best correct candidate
   * born in that generation or earlier. Its score never gets worse from one generation to the next.
   */
  bestByGeneration(): GenerationBest[] {
    const last = this.state.candidates.reduce((max, c) => Math.max(max, c.generation), -1);
    const rows: GenerationBest[] = [];
    let best: C | null = null;
    for (let generation = 0; generation <= last; generation++) {
      const born = this.state.candidates.filter((c) => c.generation === generation && isEligible(c));
      const top = this.bestOf(best ? [best, ...born] : born);
      best = top ?? null;
      rows.push({ generation, candidateId: best?.id ?? null, score: best?.score ?? null });
    }
    return rows;
  }

  /** The ids from `id` up to the initial program, following each candidate's first parent. */
  lineage(id: string): string[] {
    const ids: string[] = [];
    const seen = new Set<string>();
    for (let current = this.byId.get(id); current && !seen.has(current.id); ) {
      ids.push(current.id);
      seen.add(current.id);
      current = current.parentIds[0] ? this.byId.get(current.parentIds[0]) : undefined;
    }
    return ids;
  }

  /** Candidates per status, for the run's counters (rejections among them). */
  counts(): Record<CandidateStatus, number> {
    const counts: Record<CandidateStatus, number> = { evaluated: 0, incorrect: 0, failed: 0, rejected: 0 };
    for (const candidate of this.state.candidates) counts[candidate.status]++;
    return counts;
  }

  private islandIds(island: number): string[] {
    const ids = this.state.islands[island];
    if (!Number.isInteger(island) || !ids) {
      throw new Error(`island ${island} does not exist (the run has ${this.state.islands.length})`);
    }
    return ids;
  }

  private eligibleOn(island: number): C[] {
    return this.islandMembers(island).filter(isEligible);
  }

  /** The best of `pool`; the earliest of equals, so ties resolve the same way every time. */
  private bestOf(pool: readonly C[]): C | undefined {
    return pool.reduce<C | undefined>(
      (best, c) => (!best || this.isBetter(c.score!, best.score!) ? c : best),
      undefined,
    );
  }

  private admitToArchive(candidate: C): void {
    const archive = this.state.archive;
    // After the last elite that is at least as good: an equal newcomer ranks below the earlier one.
    let at = archive.length;
    while (at > 0 && this.isBetter(candidate.score!, this.byId.get(archive[at - 1]!)!.score!)) at--;
    if (at >= this.state.archiveSize) return;
    archive.splice(at, 0, candidate.id);
    archive.length = Math.min(archive.length, this.state.archiveSize);
  }
}
