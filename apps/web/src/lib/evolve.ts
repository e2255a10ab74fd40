import type { CandidateStatus, EventOf, EvolveDatabaseFile, RunEvent } from '@autolab/contracts';
import type { Direction } from './chart.js';

/** A candidate as the run page shows it; `pending` while the evaluator runs. */
export interface EvolveCandidate {
  id: string;
  generation: number;
  island: number;
  parentIds: string[];
  origin: string;
  model: string | null;
  status: CandidateStatus | 'pending';
  score: number | null;
  metrics: Record<string, number>;
  error: string | null;
  summary: string;
  durationMs: number | null;
  similarTo: string | null;
  similarity: number | null;
}

export type ModelStats = EventOf<'models.allocated'>['data']['stats'][number];

/** Everything the evolve view of a run shows. */
export interface EvolveView {
  direction: Direction;
  /** The evolved file's name (for its path in the artifacts); null until database.json says it. */
  program: string | null;
  generation: number;
  /** In the order they were created. */
  candidates: EvolveCandidate[];
  best: string | null;
  /** The best candidate and its first parents, the initial program first. */
  lineage: string[];
  rejections: number;
  islands: number;
  allocations: { generation: number; model: string; reason: string }[];
  models: ModelStats[];
  recommendations: { text: string; candidateIds: string[] }[];
  migrations: number;
}

/** Reads `evolve/database.json`; null when it is not there yet or not the expected shape (the events still count). */
export function parseEvolveDatabase(text: string): EvolveDatabaseFile | null {
  try {
    const parsed = JSON.parse(text) as EvolveDatabaseFile;
    return parsed && typeof parsed === 'object' && Array.isArray(parsed.candidates) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * The evolve view from the database file (written after each generation; what a finished run or a reload starts from)
 * with the run's events on top: the events say what happened since the file was written, and a live run's current
 * generation is only in them. Pure; replaying events already in the file changes nothing.
 */
export function evolveView(db: EvolveDatabaseFile | null, events: readonly RunEvent[]): EvolveView {
  const candidates = new Map<string, EvolveCandidate>();
  for (const c of db?.candidates ?? []) {
    candidates.set(c.candidateId, {
      id: c.candidateId,
      generation: c.generation,
      island: c.island,
      parentIds: c.parentIds,
      origin: c.origin,
      model: c.model,
      status: c.status,
      score: c.score,
      metrics: c.metrics,
      error: c.error,
      summary: c.summary,
      durationMs: c.durationMs,
      similarTo: c.similarTo,
      similarity: c.similarity,
    });
  }
  const view: EvolveView = {
    direction: db?.direction ?? 'maximize',
    program: db?.program ?? null,
    generation: db?.generation ?? 0,
    candidates: [],
    best: db?.best ?? null,
    lineage: [],
    rejections: db?.rejections ?? 0,
    islands: db?.islands.length ?? 0,
    allocations: [...(db?.allocations ?? [])],
    models: (db?.models ?? []).map((m) => ({ ...m, score: null })),
    recommendations: db?.recommendations ?? [],
    migrations: 0,
  };
  const blank = { score: null, metrics: {}, error: null, durationMs: null, similarTo: null, similarity: null };
  for (const event of events) {
    switch (event.type) {
      case 'candidate.created': {
        const { candidateId, ...rest } = event.data;
        if (!candidates.has(candidateId))
          candidates.set(candidateId, { ...blank, ...rest, id: candidateId, status: 'pending' });
        break;
      }
      case 'candidate.rejected': {
        const { candidateId, generation, island, parentIds, origin, model, similarTo, similarity } = event.data;
        const known = candidates.get(candidateId);
        candidates.set(candidateId, {
          ...blank,
          summary: known?.summary ?? '',
          id: candidateId,
          generation,
          island,
          parentIds,
          origin,
          model,
          status: 'rejected',
          similarTo,
          similarity,
        });
        view.rejections = Math.max(view.rejections, event.data.rejections);
        break;
      }
      case 'candidate.evaluated': {
        const known = candidates.get(event.data.candidateId);
        if (known) {
          known.status = event.data.status;
          known.score = event.data.score;
          known.metrics = finiteMetrics(event.data.metrics);
          known.error = event.data.error;
          known.durationMs = event.data.durationMs;
        }
        break;
      }
      case 'generation.finished':
        view.generation = Math.max(view.generation, event.data.generation);
        if (event.data.bestCandidateId) view.best = event.data.bestCandidateId;
        break;
      case 'metric.improved':
        view.best = event.data.nodeId;
        view.direction = event.data.direction;
        break;
      case 'models.allocated': {
        const { generation, model, reason, stats } = event.data;
        // One model per generation: the event is at least as fresh as the file.
        view.allocations = view.allocations.filter((a) => a.generation !== generation);
        view.allocations.push({ generation, model, reason });
        view.models = stats;
        break;
      }
      case 'islands.migrated':
        view.migrations += event.data.moves.length;
        break;
      case 'recommendations.updated':
        view.recommendations = event.data.recommendations;
        break;
    }
  }
  view.candidates = [...candidates.values()];
  view.islands = Math.max(view.islands, ...view.candidates.map((c) => c.island + 1));
  view.lineage = lineageOf(view.best, candidates);
  view.allocations.sort((a, b) => a.generation - b.generation);
  return view;
}

function finiteMetrics(metrics: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])),
  );
}

/** The best candidate and its first parents back to the initial program (the initial program first). */
export function lineageOf(best: string | null, candidates: ReadonlyMap<string, { parentIds: string[] }>): string[] {
  const chain: string[] = [];
  for (let id = best; id && !chain.includes(id); id = candidates.get(id)?.parentIds[0] ?? null) chain.unshift(id);
  return chain;
}

/**
 * The population chart's data (uPlot's column layout): each candidate that ran has its own x, its generation plus an
 * offset that spreads a generation's candidates over the width of one generation (so every point can be clicked),
 * one series of scores per island, the best so far as a step line, and the candidates without a score (incorrect,
 * failed) as marks on the x axis.
 */
export interface PopulationSeries {
  xs: number[];
  /** Per island, its candidates' scores at their x (null elsewhere). */
  islands: (number | null)[][];
  best: (number | null)[];
  candidateIds: string[];
  unscored: { x: number; candidateId: string; status: string }[];
}

export function populationSeries(view: Pick<EvolveView, 'candidates' | 'direction' | 'islands'>): PopulationSeries {
  const ran = view.candidates.filter((c) => c.status !== 'rejected' && c.status !== 'pending');
  const byGeneration = new Map<number, EvolveCandidate[]>();
  for (const c of ran) byGeneration.set(c.generation, [...(byGeneration.get(c.generation) ?? []), c]);
  const placed: { x: number; c: EvolveCandidate }[] = [];
  for (const [generation, members] of byGeneration) {
    // Islands side by side within the generation, the order of creation within an island.
    const ordered = [...members].sort((a, b) => a.island - b.island);
    for (const [i, c] of ordered.entries()) placed.push({ x: generation + (i + 1) / (ordered.length + 1) - 0.5, c });
  }
  placed.sort((a, b) => a.x - b.x);
  const islands = Math.max(1, view.islands);
  const series: PopulationSeries = {
    xs: [],
    islands: Array.from({ length: islands }, () => []),
    best: [],
    candidateIds: [],
    unscored: [],
  };
  let best: number | null = null;
  for (const { x, c } of placed) {
    const score = c.status === 'evaluated' ? c.score : null;
    if (score !== null && (best === null || (view.direction === 'maximize' ? score > best : score < best)))
      best = score;
    if (c.status !== 'evaluated' || score === null) series.unscored.push({ x, candidateId: c.id, status: c.status });
    series.xs.push(x);
    for (let island = 0; island < islands; island++) series.islands[island]!.push(c.island === island ? score : null);
    series.best.push(best);
    series.candidateIds.push(c.id);
  }
  return series;
}

/** Counts of the population by outcome. */
export function outcomeCounts(candidates: readonly EvolveCandidate[]): Record<EvolveCandidate['status'], number> {
  const counts = { evaluated: 0, incorrect: 0, failed: 0, rejected: 0, pending: 0 };
  for (const c of candidates) counts[c.status]++;
  return counts;
}
