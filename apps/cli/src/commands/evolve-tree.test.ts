import type { RunEvent } from '@autolab/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { RUN_ID, sampleEvolveDatabase, sampleRun } from '../testing/samples.js';
import { captureIo, type StubServer, sendJson, startStubServer } from '../testing/stub-server.js';
import { evolvePopulation, formatEvolveTree, parseEvolveDatabase } from './evolve-tree.js';

let seq = 0;
const ev = (type: string, data: Record<string, unknown>) =>
  ({ id: `${++seq}-0`, runId: RUN_ID, time: '2026-12-05T00:00:00Z', type, message: type, data }) as RunEvent;
const summary = (candidateId: string, parentIds: string[]) => ({
  candidateId,
  generation: 3,
  island: 1,
  parentIds,
  origin: 'diff',
  model: 'evolve-good',
});
/** Generation 3, live: c008 scored and became the best, c009 is still being evaluated, c010 was rejected. */
const GENERATION_3 = [
  ev('candidate.created', { ...summary('c008', ['c005']), summary: 'Shrink the border gap.' }),
  ev('candidate.created', { ...summary('c009', ['c005']), summary: 'Try a spiral.' }),
  ev('candidate.rejected', {
    ...summary('c010', ['c005']),
    similarTo: 'c008',
    similarity: 0.97,
    measure: 'tokens',
    threshold: 0.95,
    rejections: 2,
  }),
  ev('candidate.evaluated', {
    candidateId: 'c008',
    generation: 3,
    island: 1,
    status: 'evaluated',
    score: 1.8,
    metrics: { score: 1.8 },
    error: null,
    durationMs: 700,
    improved: true,
  }),
  ev('metric.improved', {
    nodeId: 'c008',
    iteration: 3,
    name: 'score',
    value: 1.8,
    previous: 1.71,
    direction: 'maximize',
  }),
];

afterEach(() => {
  seq = 0;
});

describe('evolve population', () => {
  it('draws the genealogy from database.json: generation, island, patch, outcome, score, the lineage of the best', () => {
    const lines = formatEvolveTree(evolvePopulation(sampleEvolveDatabase(), []), 160);
    expect(lines[0]).toBe('generation 2 · 8 candidates · 1 rejected as too similar · best c005 1.71 · maximize');
    expect(lines[1]).toBe('lineage: c000 → c002 → c005');
    const rows = lines.slice(2).map((l) => l.replace(/\s+/g, ' ').trim());
    expect(rows).toEqual([
      'c000 g0 i0 initial ✓ 0.9 · The uploaded program.',
      '├─ c001 g1 i0 diff ✓ 0.8 evolve-flat Change of c001.',
      '├─ c002 g1 i1 diff ✓ 1.2 · evolve-good Change of c002.',
      '│ ├─ c004 g2 i0 rewrite ✓ 1.3 evolve-good Change of c004.',
      '│ │ └─ c007 g2 i0 crossover ✗ circles 2 and 3 overlap evolve-good Change of c007.',
      '│ ├─ c005 g2 i1 diff ✓ 1.71 ★ best evolve-good Place the circles on a hexagonal lattice instead of a square grid.',
      '│ └─ c006 g2 i0 rewrite ⊘ 1 like c004 evolve-flat Change of c006.',
      '└─ c003 g1 i0 diff ✗ SyntaxError: invalid syntax evolve-good Change of c003.',
    ]);
    for (const line of formatEvolveTree(evolvePopulation(sampleEvolveDatabase(), []), 60))
      expect(line.length).toBeLessThanOrEqual(60);
  });

  it('adds what the events say since the file was written: new candidates, verdicts, rejections, a new best', () => {
    const population = evolvePopulation(sampleEvolveDatabase(), GENERATION_3);
    expect(population.best).toBe('c008');
    expect(population.lineage).toEqual(['c000', 'c002', 'c005', 'c008']);
    expect(population.rejections).toBe(2);
    const byId = new Map(population.candidates.map((c) => [c.candidateId, c]));
    expect(byId.get('c008')).toMatchObject({ status: 'evaluated', score: 1.8, summary: 'Shrink the border gap.' });
    expect(byId.get('c009')).toMatchObject({ status: 'pending', score: null });
    expect(byId.get('c010')).toMatchObject({ status: 'rejected', similarTo: 'c008', similarity: 0.97 });
    const text = formatEvolveTree(population, 140).join('\n');
    expect(text).toMatch(/c009 +g3 +i1 +diff +… +evaluating/);
  });

  it('works from the events alone before the first generation is written, and says when there is nothing', () => {
    const population = evolvePopulation(null, GENERATION_3);
    expect(population.candidates.map((c) => c.candidateId)).toEqual(['c008', 'c009', 'c010']);
    // The parent is named though its record is not known yet.
    expect(population.lineage).toEqual(['c005', 'c008']);
    expect(formatEvolveTree(evolvePopulation(null, []))).toEqual(['no candidates yet']);
    expect(parseEvolveDatabase('{"not":"a database"}')).toBeNull();
    expect(parseEvolveDatabase('not json')).toBeNull();
    expect(parseEvolveDatabase(JSON.stringify(sampleEvolveDatabase()))?.best).toBe('c005');
  });
});

describe('autolab tree of an evolve run', () => {
  let server: StubServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const serve = (database: string | null) =>
    startStubServer((request, res) => {
      const path = new URL(request.url, 'http://x').pathname;
      if (path === `/v1/runs/${RUN_ID}`) sendJson(res, 200, sampleRun({ mode: 'evolve' }));
      else if (path === `/v1/runs/${RUN_ID}/events`) {
        const after = new URL(request.url, 'http://x').searchParams.get('after');
        sendJson(res, 200, { events: after ? [] : GENERATION_3, next: null, finished: false });
      } else if (path === `/v1/runs/${RUN_ID}/artifacts/evolve/database.json` && database !== null) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(database);
      } else sendJson(res, 404, { error: { code: 'artifact_not_found', message: 'no such file' } });
    });

  it('shows the population from evolve/database.json and the events since, or as JSON', async () => {
    server = await serve(JSON.stringify(sampleEvolveDatabase()));
    const env = { AUTOLAB_URL: server.url };
    const text = captureIo();
    expect(await runCli(['tree', RUN_ID], { env, io: text.io })).toBe(0);
    expect(text.stdout()).toContain('lineage: c000 → c002 → c005 → c008');
    expect(text.stdout()).toMatch(/c008 +g3 +i1 +diff +✓ +1\.8 ★ best/);
    const json = captureIo();
    expect(await runCli(['tree', RUN_ID, '--json'], { env, io: json.io })).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ runId: RUN_ID, best: 'c008', rejections: 2 });
  });

  it('falls back to the events while database.json is not written', async () => {
    server = await serve(null);
    const text = captureIo();
    expect(await runCli(['tree', RUN_ID], { env: { AUTOLAB_URL: server.url }, io: text.io })).toBe(0);
    expect(text.stdout()).toContain('generation 0 · 3 candidates · 2 rejected as too similar · best c008 1.8');
  });
});
