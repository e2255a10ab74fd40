import { once } from 'node:events';
import { EvolveDatabaseFile, type RunEvent } from '@autolab/contracts';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, readSse, type Stack, startStack, submitEvolveRun, waitForStatus } from '../stack.js';
import { startWorkerProcess } from '../worker-process.js';

/**
 * Evolve mode survives the death of its worker: a worker process evolving the circle-packing example
 * (examples/evolve/circle-packing) is SIGKILLed in the middle of a generation, while the children of that generation
 * are being evaluated (the scripted model `evolve-slow` writes children that sleep 3 seconds before they pack). Another
 * worker takes the run once its lock expires and finishes it from the checkpoint: no candidate is evaluated twice, a
 * child written before the kill is evaluated from its saved program without asking the model again, and the best score
 * never goes down.
 */
const POPULATION = 3;
const GENERATIONS = 3;
/** The generation the worker dies in. */
const KILLED_IN = 2;
let stack: Stack;

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

beforeAll(async () => {
  stack = await startStack({ worker: false });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('evolve mode after a worker dies', () => {
  it('resumes a generation whose worker was SIGKILLed without evaluating a candidate twice or asking the model again', async () => {
    const doomed = startWorkerProcess(stack.workerEnv(), 'evolve-doomed-worker');
    const runId = await submitEvolveRun(stack, {
      model: 'evolve-slow',
      // Two children evaluated at once: the third child of a generation is written only once one of the first two
      // is evaluated, so when it is announced that generation has a finished child and a written, unevaluated one.
      search: { nodeConcurrency: 2 },
      evolve: {
        generations: GENERATIONS,
        population: POPULATION,
        islands: 1,
        patchTypes: { diff: 0, rewrite: 1, crossover: 0 },
        models: ['evolve-slow'],
        metaInterval: 0,
      },
    });

    // Kill once the last child of the generation is written: the model was asked for every child of it, so no model
    // call is in flight, and at least that child is still being evaluated (it sleeps 3 seconds first).
    let written = 0;
    await readSse(stack, runId, {
      stopWhen: (e) =>
        e.type === 'candidate.created' &&
        (e.data as { generation: number }).generation === KILLED_IN &&
        ++written === POPULATION,
      timeoutMs: 240_000,
    });
    expect(written, doomed.log().slice(-2000)).toBe(POPULATION);
    doomed.child.kill('SIGKILL');
    await once(doomed.child, 'exit');
    const callsBefore = stack.scripted.callsFor(runId).filter((c) => c.key === 'propose_rewrite').length;

    const rescuer = await stack.startWorker();
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    await rescuer.close();
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');
    expect(final.attempt).toBe(2);

    const events = (await readSse(stack, runId)).events;
    const started = ofType(events, 'run.started').map((e) => e.data);
    expect(started.map((s) => s.attempt)).toEqual([1, 2]);
    const resumedAt = events.findIndex((e) => e.type === 'run.started' && e.data.attempt === 2);
    // Every candidate written is evaluated exactly once across both attempts, and none is written twice.
    const created = ofType(events, 'candidate.created').map((e) => e.data.candidateId);
    const evaluated = ofType(events, 'candidate.evaluated').map((e) => e.data.candidateId);
    expect(new Set(created).size).toBe(created.length);
    expect([...evaluated].sort()).toEqual([...created].sort());
    expect(created).toHaveLength(1 + GENERATIONS * POPULATION);
    expect(ofType(events, 'candidate.evaluated').every((e) => e.data.status === 'evaluated')).toBe(true);

    // The interrupted generation: a child finished before the kill (not run again), and children written before the
    // kill but evaluated by the second worker from their saved programs.
    const inKilled = (e: { data: { generation: number } }) => e.data.generation === KILLED_IN;
    const before = events.slice(0, resumedAt);
    const after = events.slice(resumedAt);
    const finishedBefore = ofType(before, 'candidate.evaluated').filter(inKilled);
    const writtenBefore = ofType(before, 'candidate.created').filter(inKilled);
    const finishedAfter = ofType(after, 'candidate.evaluated').filter(inKilled);
    expect(finishedBefore.length).toBeGreaterThanOrEqual(1);
    expect(writtenBefore).toHaveLength(POPULATION);
    expect(ofType(after, 'candidate.created').filter(inKilled)).toEqual([]);
    expect(finishedAfter.length).toBeGreaterThanOrEqual(1);
    expect(finishedBefore.length + finishedAfter.length).toBe(POPULATION);
    // The resumed generation was not drawn again.
    expect(ofType(events, 'models.allocated').map((e) => e.data.generation)).toEqual([1, 2, 3]);

    // One mutation call per child written or rejected: none repeated for the children written before the kill.
    const mutations = stack.scripted.callsFor(runId).filter((c) => c.key === 'propose_rewrite');
    expect(mutations.every((c) => c.model === 'evolve-slow')).toBe(true);
    const rejected = ofType(events, 'candidate.rejected').length;
    expect(mutations).toHaveLength(created.length - 1 + rejected);
    expect(callsBefore).toBe(
      ofType(before, 'candidate.created').length - 1 + ofType(before, 'candidate.rejected').length,
    );

    // The best score never decreases, across the kill too.
    const generations = ofType(events, 'generation.finished').map((e) => e.data);
    expect(generations.map((g) => g.generation)).toEqual([0, 1, 2, 3]);
    const bests = generations.map((g) => g.bestScore!);
    for (let i = 1; i < bests.length; i++) expect(bests[i]).toBeGreaterThanOrEqual(bests[i - 1]!);
    const improvements = ofType(events, 'metric.improved').map((e) => e.data.value);
    for (let i = 1; i < improvements.length; i++) expect(improvements[i]).toBeGreaterThan(improvements[i - 1]!);
    expect(final.bestMetric).toMatchObject({ name: 'score', value: bests.at(-1) });

    // The database holds each candidate once, every one evaluated.
    const res = await fetch(`${stack.apiUrl}/v1/runs/${runId}/artifacts/evolve/database.json`, {
      headers: authHeaders(stack),
    });
    const database = EvolveDatabaseFile.parse(await res.json());
    expect(database.candidates.map((c) => c.candidateId).sort()).toEqual([...created].sort());
    expect(database.candidates.every((c) => c.status === 'evaluated')).toBe(true);

    // Nothing the dead worker started is still running.
    const containers = await new Docker().listContainers({ all: true, filters: { label: [`autolab.run=${runId}`] } });
    expect(containers).toEqual([]);
  }, 600_000);
});
