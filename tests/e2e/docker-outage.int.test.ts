import { randomBytes } from 'node:crypto';
import type { RunEvent, RunRecord } from '@autolab/contracts';
import { listRunContainers } from '@autolab/sandbox';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerProxy, startDockerProxy } from '../docker-proxy.js';
import { readSse, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-process.js';

/**
 * Docker goes away while an experiment runs. The worker (a real process) reaches Docker only through a proxy socket
 * that the test closes — open connections cut, the socket file gone, as when dockerd stops. A short outage is waited
 * out and the cut experiment is run again from the start; an outage longer than AUTOLAB_DOCKER_RETRY_SECONDS fails
 * the run with `docker_unavailable`, and its containers are removed as soon as Docker answers again.
 */
const RETRY_SECONDS = 8;
const docker = new Docker(); // the real engine, past the proxy
let stack: Stack;
let proxy: DockerProxy;
let worker: WorkerProcess;

const request = {
  goal: 'Does an experiment survive losing Docker for a moment?',
  model: 'steady',
  maxIterations: 1,
  seeds: 0,
  search: { numDrafts: 1 },
  review: { reviewers: 0 },
  ideation: { numIdeas: 1, reflections: 0 },
};
const untilStep = (step: number) => (e: RunEvent) =>
  e.type === 'exec.output' && (e.data as { text: string }).text.includes(`step ${step}\n`);
const outageLines = () => worker.lines(/^cannot reach Docker/);

describe('Docker outages during a run', () => {
  beforeAll(async () => {
    stack = await startStack({ worker: false });
    proxy = await startDockerProxy();
    worker = startWorkerProcess(
      stack.workerEnv({
        DOCKER_HOST: proxy.host,
        AUTOLAB_DOCKER_RETRY_SECONDS: String(RETRY_SECONDS),
        LOG_LEVEL: 'info',
      }),
      `outage-${randomBytes(3).toString('hex')}`,
    );
  });
  afterAll(async () => {
    await proxy?.open();
    await worker?.stop();
    if (process.env.OUTAGE_LOG) (await import('node:fs')).writeFileSync(process.env.OUTAGE_LOG, worker.log());
    await proxy?.stop();
    await stack?.close();
  });

  it('waits out a short outage mid-experiment, runs the cut experiment again, and succeeds', async () => {
    const run = await submitRun(stack, request);
    await readSse(stack, run.id, { stopWhen: untilStep(3), timeoutMs: 120_000 });
    await proxy.outage(4000);

    const final = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 180_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');
    const events = (await readSse(stack, run.id)).events;
    const output = events
      .filter((e) => e.type === 'exec.output')
      .map((e) => (e.data as { text: string }).text)
      .join('');
    expect(output).toContain('Docker was unreachable while this ran');
    // The experiment ran to its end after the outage: all 20 steps are counted, in one node.
    const finished = events.filter((e) => e.type === 'node.finished').map((e) => e.data as Record<string, unknown>);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ nodeId: 'n001', buggy: false, exitCode: 0, metrics: { steps: 20 } });
    // Running it again asked the model nothing.
    expect(stack.scripted.callsFor(run.id).filter((c) => c.key === 'draft_experiment')).toHaveLength(1);
    expect(await listRunContainers(docker, run.id)).toEqual([]);
    expect(outageLines()).toHaveLength(1);
    expect(worker.child.exitCode).toBeNull();
  });

  it(`fails the run with docker_unavailable after ${RETRY_SECONDS} s without Docker, and removes its containers when Docker is back`, async () => {
    const run = await submitRun(stack, request);
    await readSse(stack, run.id, { stopWhen: untilStep(3), timeoutMs: 120_000 });
    const cut = Date.now();
    await proxy.close();
    try {
      const final = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 60_000);
      const waited = Date.now() - cut;
      expect(final.status).toBe('failed');
      expect(final.error?.code).toBe('docker_unavailable');
      expect(final.error?.message).toMatch(/Docker has been unreachable/);
      expect(waited).toBeGreaterThanOrEqual(RETRY_SECONDS * 1000);
      expect(waited).toBeLessThan((RETRY_SECONDS + 15) * 1000);
      // The worker could not remove the sandbox while Docker was out of its reach.
      expect((await listRunContainers(docker, run.id)).length).toBeGreaterThan(0);
      expect(outageLines()).toHaveLength(2);
    } finally {
      await proxy.open();
    }
    const until = Date.now() + 20_000;
    while ((await listRunContainers(docker, run.id)).length > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await listRunContainers(docker, run.id)).toEqual([]);
    expect(worker.child.exitCode).toBeNull();

    // And the worker takes runs again.
    const next = await submitRun(stack, request);
    expect((await waitForStatus(stack, next.id, ['succeeded', 'failed'], 180_000)).status).toBe('succeeded');
    const record = (await fetch(`${stack.apiUrl}/v1/runs/${run.id}`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    }).then((r) => r.json())) as RunRecord;
    expect(record.status).toBe('failed');
  }, 300_000);
});
