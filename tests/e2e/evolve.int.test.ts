import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EvolveDatabaseFile, type RunEvent, type RunRecord } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, authHeaders, readSse, type Stack, startStack, uploadFiles, waitForStatus } from '../stack.js';

/**
 * Evolve mode through the real stack: the circle-packing example (examples/evolve/circle-packing) is evolved by two
 * scripted mutation models, `evolve-good` (every child a longer hill-climb, so better than any program before it) and
 * `evolve-flat` (children that never beat their parent: one repeats itself, one makes circles overlap). Every child
 * really runs with the user's evaluate.py in a sandbox; every score below is what that evaluator wrote.
 */
const EXAMPLE = join(import.meta.dirname, '../../examples/evolve/circle-packing');
let stack: Stack;

async function artifact(runId: string, path: string): Promise<Buffer> {
  const res = await fetch(`${stack.apiUrl}/v1/runs/${runId}/artifacts/${path}`, {
    headers: { authorization: `Bearer ${stack.apiKey}` },
  });
  expect(res.status, path).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('evolve mode', () => {
  it('evolves a program against its evaluator: monotone best, incorrect kept out, repeats rejected, the bandit prefers the model that improves, recommendations reach later prompts', async () => {
    const program = await readFile(join(EXAMPLE, 'program.py'), 'utf8');
    const code = await uploadFiles(stack, { 'program.py': program });
    const evaluator = await uploadFiles(stack, {
      'evaluate.py': await readFile(join(EXAMPLE, 'evaluator/evaluate.py'), 'utf8'),
    });

    // An evaluator upload without a program to run is refused at submit, naming the field.
    const noEvaluator = await uploadFiles(stack, { 'notes.txt': 'no program here\n' });
    const refused = await api<{ error: { details: { issues: { path: string }[] } } }>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ mode: 'evolve', inputs: { code: code.id, evaluator: noEvaluator.id } }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.issues[0]?.path).toBe('inputs.evaluator');

    const submitted = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({
        mode: 'evolve',
        model: 'evolve-good',
        inputs: { code: code.id, evaluator: evaluator.id },
        search: { nodeConcurrency: 2 },
        sandbox: { execTimeoutSeconds: 60 },
        evolve: {
          generations: 5,
          population: 2,
          islands: 2,
          migrationInterval: 2,
          patchTypes: { diff: 0, rewrite: 1, crossover: 0 },
          models: ['evolve-good', 'evolve-flat'],
          metaInterval: 2,
        },
      }),
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body.mode).toBe('evolve');
    expect(submitted.body.policy.evolve).toMatchObject({ generations: 5, noveltyThreshold: 0.99 });
    const runId = submitted.body.id;
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 400_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');
    const events = (await readSse(stack, runId)).events;

    // The initial program is scored as uploaded (a 4×4 grid holding 10 circles of radius 1/8).
    const evaluated = ofType(events, 'candidate.evaluated');
    expect(evaluated[0]!.data).toMatchObject({ candidateId: 'c000', status: 'evaluated', score: 1.25 });

    // The best score never decreases from one generation to the next, and it ends above the start.
    const generations = ofType(events, 'generation.finished').map((e) => e.data);
    expect(generations.map((g) => g.generation)).toEqual([0, 1, 2, 3, 4, 5]);
    const bests = generations.map((g) => g.bestScore!);
    for (let i = 1; i < bests.length; i++) expect(bests[i]).toBeGreaterThanOrEqual(bests[i - 1]!);
    expect(bests.at(-1)).toBeGreaterThan(1.3);
    expect(final.bestMetric).toMatchObject({ name: 'score', value: bests.at(-1), direction: 'maximize' });

    // A child that makes circles overlap is incorrect, with the evaluator's reason, and never an elite.
    const incorrect = evaluated.filter((e) => e.data.status === 'incorrect');
    expect(incorrect.length).toBeGreaterThanOrEqual(1);
    expect(incorrect[0]!.data.error).toMatch(/overlap|leaves the unit square/);
    const database = EvolveDatabaseFile.parse(JSON.parse((await artifact(runId, 'evolve/database.json')).toString()));
    for (const e of incorrect) expect(database.elites).not.toContain(e.data.candidateId);
    expect(database.best).toBe(final.bestMetric!.nodeId);

    // The flat model's repeated answer is rejected before it runs, and counted.
    const rejected = ofType(events, 'candidate.rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect(rejected[0]!.data).toMatchObject({ model: 'evolve-flat', similarity: 1, threshold: 0.99 });
    expect(database.rejections).toBe(rejected.length);
    const ran = new Set(evaluated.map((e) => e.data.candidateId));
    for (const r of rejected) expect(ran.has(r.data.candidateId)).toBe(false);

    // The bandit: once each model has been tried, the one whose children improve gets the later generations, as
    // the scripted server counts the mutation calls it answered.
    const allocations = ofType(events, 'models.allocated').map((e) => e.data);
    expect(
      allocations
        .map((a) => a.model)
        .slice(0, 2)
        .sort(),
    ).toEqual(['evolve-flat', 'evolve-good']);
    const later = allocations.slice(2);
    expect(later.filter((a) => a.model === 'evolve-good').length).toBeGreaterThan(later.length / 2);
    const mutations = stack.scripted.calls.filter((c) => c.key === 'propose_rewrite');
    const byModel = (model: string) => mutations.filter((c) => c.model === model).length;
    expect(byModel('evolve-good')).toBeGreaterThan(byModel('evolve-flat'));

    // Recommendations after generation 2 cite candidates and appear in the later mutation prompts.
    const recommended = ofType(events, 'recommendations.updated');
    expect(recommended.length).toBeGreaterThanOrEqual(1);
    const first = recommended[0]!.data.recommendations[0]!;
    expect(first.candidateIds.length).toBeGreaterThan(0);
    const transcript = (await artifact(runId, 'transcript.jsonl'))
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { purpose: string; messages?: unknown; prompt?: string });
    const laterPrompts = transcript.filter((t) => t.purpose === 'mutate').map((t) => JSON.stringify(t));
    expect(laterPrompts.some((p) => p.includes(first.text) && p.includes(first.candidateIds[0]!))).toBe(true);

    // The output: the best program, its diff from the initial one, the figure and a report whose numbers are the
    // evaluator's.
    const best = database.candidates.find((c) => c.candidateId === database.best)!;
    const bestProgram = (await artifact(runId, 'evolve/best/program/program.py')).toString();
    expect(bestProgram).toContain('construct_packing');
    expect((await artifact(runId, 'evolve/best/diff-from-initial.patch')).toString()).toMatch(/^[-+].*range\(/m);
    expect((await artifact(runId, 'evolve/score-by-generation.png')).subarray(1, 4).toString()).toBe('PNG');
    const report = (await artifact(runId, 'evolve/report.md')).toString();
    expect(report).toContain(`The best program is ${best.candidateId}`);
    expect(database.lineage.at(-1)).toBe('c000');
    for (const id of database.lineage) expect(report).toContain(`| ${id} |`);
    expect(final.stage).toBe('done');

    // Across runs: the recommendations became lessons of the tenant, with their candidates as evidence ...
    const learned = ofType(events, 'lessons.learned');
    expect(learned).toHaveLength(1);
    const created = learned[0]!.data.created;
    expect(created.length).toBeGreaterThan(0);
    // Its evidence links to the cited candidate's record.
    const lesson = await api<{ evidence: { nodeId: string; links: { node: string } }[] }>(
      stack,
      `/v1/lessons/${created[0]}`,
    );
    const cited = lesson.body.evidence[0]!;
    expect(cited.links.node).toBe(`/v1/runs/${runId}/artifacts/evolve/candidates/${cited.nodeId}/candidate.json`);
    const record = await fetch(`${stack.apiUrl}${cited.links.node}`, { headers: authHeaders(stack) });
    expect(record.status).toBe(200);
    // ... and the next evolve run's mutation prompts carry them (counted where the model reads them).
    const next = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({
        mode: 'evolve',
        model: 'evolve-good',
        inputs: { code: code.id, evaluator: evaluator.id },
        sandbox: { execTimeoutSeconds: 60 },
        evolve: { generations: 1, population: 1, islands: 1, patchTypes: { diff: 0, rewrite: 1, crossover: 0 } },
      }),
    });
    const nextFinal = await waitForStatus(stack, next.body.id, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(nextFinal.status).toBe('succeeded');
    const applied = ofType((await readSse(stack, next.body.id)).events, 'lessons.applied');
    expect(applied[0]?.data.step).toBe('generation 1');
    const reached = stack.scripted.calls
      .filter((c) => c.runKey === next.body.id && c.key === 'propose_rewrite')
      .flatMap((c) => c.lessonIds);
    expect(reached).toEqual(expect.arrayContaining(applied[0]!.data.lessonIds));
    expect(created.some((id) => reached.includes(id))).toBe(true);
  }, 700_000);
});
