import { randomBytes } from 'node:crypto';
import { EvolveDatabaseFile, type RunEvent } from '@autolab/contracts';
import { listRunContainers } from '@autolab/sandbox';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerProxy, startDockerProxy } from '../docker-proxy.js';
import { authHeaders, readSse, type Stack, startStack, submitEvolveRun, waitForStatus } from '../stack.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-process.js';

/**
 * An evolve run through a Docker outage (the research-run drill of docker-outage.int.test.ts, for evolve mode): the
 * worker, a real process, reaches Docker only through a proxy socket that the test closes while a child of the first
 * generation is being evaluated (the scripted model `evolve-slow` writes children that sleep 3 seconds before they
 * pack) and opens again within AUTOLAB_DOCKER_RETRY_SECONDS. The run must finish with every candidate evaluated
 * exactly once, each scored (the cut evaluation is run again, not counted as a failure), the model not asked again,
 * and the best score never going down.
 */
const RETRY_SECONDS = 20;
const POPULATION = 2;
const GENERATIONS = 2;
const docker = new Docker(); // the real engine, past the proxy
let stack: Stack;
let proxy: DockerProxy;
let worker: WorkerProcess;

/** Whether the evaluator wrapper is running in one of the run's sandboxes (asked of the real engine). */
async function evaluating(runId: string): Promise<boolean> {
  for (const id of await listRunContainers(docker, runId)) {
    const top: { Processes?: string[][] } | null = await docker
      .getContainer(id)
      .top()
      .catch(() => null);
    if (top?.Processes?.some((p) => p.join(' ').includes('_autolab_evaluate.py'))) return true;
  }
  return false;
}

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

/** An evolve run of the circle-packing example with the slow model; its id. */
async function submitEvolve(extra: Record<string, unknown> = {}): Promise<string> {
  return submitEvolveRun(stack, {
    model: 'evolve-slow',
    ...extra,
    evolve: {
      generations: GENERATIONS,
      population: POPULATION,
      islands: 1,
      patchTypes: { diff: 0, rewrite: 1, crossover: 0 },
      models: ['evolve-slow'],
      metaInterval: 0,
    },
  });
}

/** Waits until the first child of generation 1 is being evaluated (its evaluator runs in the run's sandbox). */
async function untilEvaluatingGeneration1(runId: string): Promise<string> {
  const upTo = await readSse(stack, runId, {
    stopWhen: (e) => e.type === 'candidate.created' && (e.data as { generation: number }).generation === 1,
    timeoutMs: 240_000,
  });
  const until = Date.now() + 30_000;
  while (!(await evaluating(runId)) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  expect(await evaluating(runId)).toBe(true);
  return ofType(upTo.events, 'candidate.created').at(-1)!.data.candidateId;
}

describe('an evolve run through a Docker outage', () => {
  beforeAll(async () => {
    stack = await startStack({ worker: false });
    proxy = await startDockerProxy();
    worker = startWorkerProcess(
      stack.workerEnv({
        DOCKER_HOST: proxy.host,
        AUTOLAB_DOCKER_RETRY_SECONDS: String(RETRY_SECONDS),
        LOG_LEVEL: 'info',
      }),
      `evolve-outage-${randomBytes(3).toString('hex')}`,
    );
  }, 120_000);
  afterAll(async () => {
    await proxy?.open();
    await worker?.stop();
    await proxy?.stop();
    await stack?.close();
  });

  it('waits out an outage mid-evaluation and evaluates every candidate once, the best never going down', async () => {
    const runId = await submitEvolve();

    // The outage starts while the first child of generation 1 is in its 3-second pause.
    const cutChild = await untilEvaluatingGeneration1(runId);
    const cutAt = Date.now();
    await proxy.outage(4000);

    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error, worker.log().slice(-3000)).toBeNull();
    expect(final.status).toBe('succeeded');
    expect(final.attempt).toBe(1);
    const events = (await readSse(stack, runId)).events;
    // The cut evaluation was run again from the start after the outage: its pause and packing, measured once more.
    const cutEvaluated = ofType(events, 'candidate.evaluated').find((e) => e.data.candidateId === cutChild)!;
    expect(Date.parse(cutEvaluated.time)).toBeGreaterThan(cutAt + 4000);
    expect(cutEvaluated.data.durationMs).toBeGreaterThanOrEqual(3000);
    expect(worker.lines(/^cannot reach Docker/).length).toBeGreaterThanOrEqual(1);

    // Every candidate written is evaluated exactly once, and scored: none failed because of the outage.
    const created = ofType(events, 'candidate.created').map((e) => e.data.candidateId);
    const evaluated = ofType(events, 'candidate.evaluated');
    expect(new Set(created).size).toBe(created.length);
    expect(created).toHaveLength(1 + GENERATIONS * POPULATION);
    expect(evaluated.map((e) => e.data.candidateId).sort()).toEqual([...created].sort());
    expect(evaluated.map((e) => [e.data.candidateId, e.data.status, e.data.error ?? null])).toEqual(
      evaluated.map((e) => [e.data.candidateId, 'evaluated', null]),
    );
    // One model call per child: the cut evaluation was run again without asking for the child again.
    const mutations = stack.scripted.callsFor(runId).filter((c) => c.key === 'propose_rewrite');
    expect(mutations).toHaveLength(created.length - 1 + ofType(events, 'candidate.rejected').length);

    // The best score never decreases.
    const generations = ofType(events, 'generation.finished').map((e) => e.data);
    expect(generations.map((g) => g.generation)).toEqual([0, 1, 2]);
    const bests = generations.map((g) => g.bestScore!);
    for (let i = 1; i < bests.length; i++) expect(bests[i]).toBeGreaterThanOrEqual(bests[i - 1]!);
    const improvements = ofType(events, 'metric.improved').map((e) => e.data.value);
    for (let i = 1; i < improvements.length; i++) expect(improvements[i]).toBeGreaterThan(improvements[i - 1]!);
    expect(final.bestMetric).toMatchObject({ name: 'score', value: bests.at(-1) });

    // The database holds each candidate once, every one evaluated; no sandbox is left.
    const res = await fetch(`${stack.apiUrl}/v1/runs/${runId}/artifacts/evolve/database.json`, {
      headers: authHeaders(stack),
    });
    const database = EvolveDatabaseFile.parse(await res.json());
    expect(database.candidates.map((c) => c.candidateId).sort()).toEqual([...created].sort());
    expect(database.candidates.every((c) => c.status === 'evaluated')).toBe(true);
    expect(await listRunContainers(docker, runId)).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
  }, 400_000);
  it(`fails the run with docker_unavailable when Docker stays away over ${RETRY_SECONDS} s, recording no candidate as failed`, async () => {
    // Two children evaluated at once: both evaluations are cut.
    const runId = await submitEvolve({ search: { nodeConcurrency: 2 } });
    await untilEvaluatingGeneration1(runId);
    const cut = Date.now();
    await proxy.close();
    try {
      const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 120_000);
      const waited = Date.now() - cut;
      expect(final.status).toBe('failed');
      expect(final.error?.code).toBe('docker_unavailable');
      expect(final.error?.message).toMatch(/Docker has been unreachable/);
      expect(waited).toBeGreaterThanOrEqual(RETRY_SECONDS * 1000);
      expect(waited).toBeLessThan((RETRY_SECONDS + 20) * 1000);
    } finally {
      await proxy.open();
    }
    const events = (await readSse(stack, runId)).events;
    // An outage is not the candidate's fault: none of generation 1 is recorded as evaluated (failed or otherwise).
    expect(ofType(events, 'candidate.evaluated').filter((e) => e.data.generation === 1)).toEqual([]);
    const until = Date.now() + 20_000;
    while ((await listRunContainers(docker, runId)).length > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await listRunContainers(docker, runId)).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
  }, 300_000);
});
