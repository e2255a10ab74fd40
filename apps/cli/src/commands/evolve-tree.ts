import { type CandidateRecord, EvolveDatabaseFile, type RunEvent } from '@autolab/contracts';
import { formatNumber, formatTable, lastLine, oneLine } from '../human-format.js';
import { truncateToWidth } from '../terminal/ansi.js';
import { treeBranches } from '../tree-branches.js';

/** A candidate as `autolab tree` lists it; `pending` while it is being evaluated. */
export type PopulationMember = Omit<CandidateRecord, 'status'> & { status: CandidateRecord['status'] | 'pending' };

/** An evolve run's population: `evolve/database.json` as far as it is written, and the events since. */
export interface EvolvePopulation {
  direction: 'maximize' | 'minimize' | null;
  generation: number;
  candidates: PopulationMember[];
  best: string | null;
  lineage: string[];
  rejections: number;
}

/** Reads `evolve/database.json` (null when it is not written yet or unreadable: the events still tell the story). */
export function parseEvolveDatabase(text: string | null): EvolveDatabaseFile | null {
  if (text === null) return null;
  try {
    const parsed = EvolveDatabaseFile.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The population from the database file (written after every generation) with the candidate events on top: a live
 * run's current generation is only in the events. The best is the database's, or the last `metric.improved`.
 */
export function evolvePopulation(db: EvolveDatabaseFile | null, events: readonly RunEvent[]): EvolvePopulation {
  const candidates = new Map<string, PopulationMember>((db?.candidates ?? []).map((c) => [c.candidateId, { ...c }]));
  let best = db?.best ?? null;
  let generation = db?.generation ?? 0;
  let rejections = db?.rejections ?? 0;
  const blank = {
    score: null,
    metrics: {},
    error: null,
    children: 0,
    durationMs: 0,
    similarTo: null,
    similarity: null,
  };
  for (const event of events) {
    switch (event.type) {
      case 'candidate.created': {
        const known = candidates.get(event.data.candidateId);
        if (!known) candidates.set(event.data.candidateId, { ...blank, ...event.data, status: 'pending' });
        break;
      }
      case 'candidate.rejected': {
        const { similarTo, similarity, measure: _m, threshold: _t, rejections: count, ...summary } = event.data;
        candidates.set(summary.candidateId, {
          ...blank,
          ...summary,
          summary: '',
          status: 'rejected',
          similarTo,
          similarity,
        });
        rejections = Math.max(rejections, count);
        break;
      }
      case 'candidate.evaluated': {
        const known = candidates.get(event.data.candidateId);
        if (known)
          Object.assign(known, {
            status: event.data.status,
            score: event.data.score,
            metrics: event.data.metrics,
            error: event.data.error,
            durationMs: event.data.durationMs,
          });
        break;
      }
      case 'generation.finished':
        generation = Math.max(generation, event.data.generation);
        if (event.data.bestCandidateId) best = event.data.bestCandidateId;
        break;
      case 'metric.improved':
        best = event.data.nodeId;
        break;
    }
  }
  return {
    direction: db?.direction ?? null,
    generation,
    candidates: [...candidates.values()],
    best,
    lineage: lineageOf(best, candidates),
    rejections,
  };
}

/** The best candidate and its first parents back to the initial program (the first one listed). */
export function lineageOf(best: string | null, candidates: ReadonlyMap<string, { parentIds: string[] }>): string[] {
  const chain: string[] = [];
  for (let id = best; id && !chain.includes(id); id = candidates.get(id)?.parentIds[0] ?? null) chain.unshift(id);
  return chain;
}

const STATUS_MARK = { evaluated: '✓', incorrect: '✗', failed: '✗', rejected: '⊘', pending: '…' } as const;
const MAX_ERROR = 40;
const ALIGN = ['left', 'left', 'right', 'right', 'left', 'left', 'left', 'left'] as const;

/**
 * The population as a genealogy (each candidate under its first parent), in columns: the tree, generation, island,
 * patch type, outcome, score (★ for the best, · for its lineage) or why it has none, the model and its summary.
 */
export function formatEvolveTree(population: EvolvePopulation, width = 100): string[] {
  if (population.candidates.length === 0) return ['no candidates yet'];
  const byId = new Map(population.candidates.map((c) => [c.candidateId, c]));
  const nodes = population.candidates.map((c) => ({ id: c.candidateId, parentId: c.parentIds[0] ?? null, c }));
  const lines: string[] = [];
  const best = population.best ? byId.get(population.best) : undefined;
  lines.push(
    truncateToWidth(
      [
        `generation ${population.generation}`,
        `${population.candidates.length} candidates`,
        `${population.rejections} rejected as too similar`,
        best ? `best ${best.candidateId} ${best.score === null ? '' : formatNumber(best.score)}`.trim() : 'no best yet',
        ...(population.direction ? [population.direction] : []),
      ].join(' · '),
      width,
    ),
  );
  if (population.lineage.length > 0) lines.push(truncateToWidth(`lineage: ${population.lineage.join(' → ')}`, width));
  const cells = treeBranches(nodes).map(({ branch, node: { c } }) => [
    branch,
    `g${c.generation}`,
    `i${c.island}`,
    c.origin,
    STATUS_MARK[c.status],
    detail(c, population),
    c.model ?? '',
    oneLine(c.summary, width),
  ]);
  lines.push(...formatTable(cells, { align: ALIGN, maxWidth: width }));
  return lines;
}

function detail(c: PopulationMember, population: EvolvePopulation): string {
  switch (c.status) {
    case 'evaluated': {
      const mark =
        c.candidateId === population.best ? ' ★ best' : population.lineage.includes(c.candidateId) ? ' ·' : '';
      return `${c.score === null ? '—' : formatNumber(c.score)}${mark}`;
    }
    case 'rejected':
      return `${c.similarity === null ? '' : `${formatNumber(c.similarity)} `}like ${c.similarTo ?? '?'}`;
    case 'pending':
      return 'evaluating';
    default:
      return lastLine(c.error ?? c.status, MAX_ERROR);
  }
}
