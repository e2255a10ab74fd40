import type { RunEvent } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
// The CLI's samples are the contract's: the same database file and events a real evolve run writes.
import { extraSampleEvents, sampleEvolveDatabase } from '../../../cli/src/testing/samples.js';
import { evolveView, outcomeCounts, parseEvolveDatabase, populationSeries } from './evolve.js';

let seq = 1000;
const ev = (type: string, data: Record<string, unknown>) =>
  ({ id: `${++seq}-0`, runId: 'run_x', time: '2026-12-05T00:00:00Z', type, message: type, data }) as RunEvent;
const evolveEvents = () =>
  extraSampleEvents().filter((e) => /^(candidate|generation|models|islands|recomm)/.test(e.type));

describe('evolve view', () => {
  it('reads the population, the best lineage, models and recommendations from evolve/database.json', () => {
    const view = evolveView(sampleEvolveDatabase(), []);
    expect(view.candidates.map((c) => c.id)).toEqual(['c000', 'c001', 'c002', 'c003', 'c004', 'c005', 'c006', 'c007']);
    expect(view.best).toBe('c005');
    expect(view.lineage).toEqual(['c000', 'c002', 'c005']);
    expect(view.islands).toBe(2);
    expect(view.rejections).toBe(1);
    expect(view.program).toBe('program.py');
    expect(view.models.map((m) => [m.model, m.pulls, m.improvements])).toEqual([
      ['evolve-good', 4, 3],
      ['evolve-flat', 2, 0],
    ]);
    expect(outcomeCounts(view.candidates)).toEqual({ evaluated: 5, incorrect: 1, failed: 1, rejected: 1, pending: 0 });
  });

  it('follows a live run from the events alone (before database.json exists)', () => {
    const view = evolveView(null, evolveEvents());
    const c005 = view.candidates.find((c) => c.id === 'c005');
    expect(c005).toMatchObject({ status: 'evaluated', score: 1.71, model: 'evolve-good', parentIds: ['c002'] });
    expect(view.candidates.find((c) => c.id === 'c006')).toMatchObject({ status: 'rejected', similarTo: 'c004' });
    expect(view.best).toBe('c005');
    // Its parent is named, though this run's events before it are not in the sample.
    expect(view.lineage).toEqual(['c002', 'c005']);
    expect(view.allocations).toEqual([
      expect.objectContaining({ generation: 2, model: 'evolve-good', reason: expect.stringContaining('2 of 2') }),
    ]);
    expect(view.models.find((m) => m.model === 'evolve-good')?.score).toBe(1.83);
    expect(view.recommendations[0]).toEqual({
      text: 'Hexagonal placements beat square grids.',
      candidateIds: ['c005'],
    });
    expect(view.migrations).toBe(1);
    expect(view.rejections).toBe(1);
  });

  it('puts the events since the file on top: a pending child, its verdict, a new best; replays change nothing', () => {
    const created = ev('candidate.created', {
      candidateId: 'c008',
      generation: 3,
      island: 1,
      parentIds: ['c005'],
      origin: 'diff',
      model: 'evolve-good',
      summary: 'Shrink the gap.',
    });
    const pending = evolveView(sampleEvolveDatabase(), [created]);
    expect(pending.candidates.at(-1)).toMatchObject({ id: 'c008', status: 'pending', score: null });
    const evaluated = ev('candidate.evaluated', {
      candidateId: 'c008',
      generation: 3,
      island: 1,
      status: 'evaluated',
      score: 1.8,
      metrics: { score: 1.8 },
      error: null,
      durationMs: 600,
      improved: true,
    });
    const improved = ev('metric.improved', {
      nodeId: 'c008',
      iteration: 3,
      name: 'score',
      value: 1.8,
      previous: 1.71,
      direction: 'maximize',
    });
    const events = [created, evaluated, improved];
    const view = evolveView(sampleEvolveDatabase(), [...events, ...events]);
    expect(view.candidates.filter((c) => c.id === 'c008')).toHaveLength(1);
    expect(view.best).toBe('c008');
    expect(view.lineage).toEqual(['c000', 'c002', 'c005', 'c008']);
    // Replaying the sample events over a database that already has them keeps one allocation per generation.
    const replayed = evolveView(sampleEvolveDatabase(), [...evolveEvents(), ...evolveEvents()]);
    expect(replayed.allocations.filter((a) => a.generation === 2)).toHaveLength(1);
  });

  it('rejects a file that is not a database', () => {
    expect(parseEvolveDatabase('{"candidates": 3}')).toBeNull();
    expect(parseEvolveDatabase('<html>')).toBeNull();
    expect(parseEvolveDatabase(JSON.stringify(sampleEvolveDatabase()))?.best).toBe('c005');
  });
});

describe('population chart series', () => {
  it('gives each candidate that ran its own x within its generation, scores by island, the best so far, marks for the unscored', () => {
    const s = populationSeries(evolveView(sampleEvolveDatabase(), []));
    // The rejected c006 never ran: not on the chart.
    expect(s.candidateIds).toEqual(['c000', 'c001', 'c003', 'c002', 'c004', 'c007', 'c005']);
    for (let i = 1; i < s.xs.length; i++) expect(s.xs[i]!).toBeGreaterThan(s.xs[i - 1]!);
    expect(s.xs.map(Math.round)).toEqual([0, 1, 1, 1, 2, 2, 2]);
    expect(s.islands[0]).toEqual([0.9, 0.8, null, null, 1.3, null, null]);
    expect(s.islands[1]).toEqual([null, null, null, 1.2, null, null, 1.71]);
    expect(s.best).toEqual([0.9, 0.9, 0.9, 1.2, 1.3, 1.3, 1.71]);
    expect(s.unscored.map((u) => [u.candidateId, u.status])).toEqual([
      ['c003', 'failed'],
      ['c007', 'incorrect'],
    ]);
  });

  it('keeps the lowest score as the best when the score is minimized', () => {
    const view = { ...evolveView(sampleEvolveDatabase(), []), direction: 'minimize' as const };
    expect(populationSeries(view).best.at(-1)).toBe(0.8);
  });
});
