import { randomBytes } from 'node:crypto';
import type { RunRecord } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerProxy, startDockerProxy } from '../docker-proxy.js';
import { api, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-process.js';

/**
 * A worker (a real process) started while Docker is unreachable — its DOCKER_HOST is a proxy socket that does not
 * exist yet — does not crash: it logs one clear line, reports itself unhealthy through its heartbeat (so /healthz
 * says docker: false), and leaves queued runs queued. When Docker appears, it takes the run and finishes it.
 */
let stack: Stack;
let proxy: DockerProxy;
let worker: WorkerProcess;

interface Health {
  status: string;
  docker: boolean;
  workers: { workerId: string }[];
}

describe('a worker started without Docker', () => {
  beforeAll(async () => {
    stack = await startStack({ worker: false });
    proxy = await startDockerProxy({ open: false });
  });
  afterAll(async () => {
    await proxy?.open();
    await worker?.stop();
    await proxy?.stop();
    await stack?.close();
  });

  it('waits for Docker without crashing, reports itself unhealthy, and then takes the queued run', async () => {
    const run = await submitRun(stack, {
      goal: 'Is a run taken once Docker comes back?',
      model: 'steady',
      maxIterations: 1,
      seeds: 0,
      search: { numDrafts: 1 },
      review: { reviewers: 0 },
      ideation: { numIdeas: 1, reflections: 0 },
    });
    const id = `no-docker-${randomBytes(3).toString('hex')}`;
    worker = startWorkerProcess(stack.workerEnv({ DOCKER_HOST: proxy.host, LOG_LEVEL: 'info' }), id);

    const heartbeatKey = `${stack.prefix}:worker:${id}`;
    const until = Date.now() + 60_000;
    while (!(await stack.redis.exists(heartbeatKey)) && Date.now() < until) {
      expect(worker.child.exitCode, worker.log()).toBeNull();
      await new Promise((r) => setTimeout(r, 250));
    }
    // Two more heartbeats' worth of waiting: still alive, still waiting, the run untouched.
    await new Promise((r) => setTimeout(r, 11_000));
    expect(worker.child.exitCode, worker.log()).toBeNull();
    expect(JSON.parse((await stack.redis.get(heartbeatKey))!)).toMatchObject({ workerId: id, dockerOk: false });
    const health = await api<Health>(stack, '/healthz', { key: null });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'degraded', docker: false });
    expect(health.body.workers.map((w) => w.workerId)).toContain(id);
    expect((await api<RunRecord>(stack, `/v1/runs/${run.id}`)).body.status).toBe('queued');

    const waiting = worker.lines(/^cannot reach Docker/);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ level: 50, docker: proxy.host });
    expect(String(waiting[0]!.err)).toMatch(/ENOENT/);
    expect(worker.log()).not.toMatch(/\n\s+at /); // no stack trace
    expect(
      worker
        .log()
        .trim()
        .split('\n')
        .every((line) => line.startsWith('{')),
    ).toBe(true);

    await proxy.open();
    const final = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 180_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');
    expect(worker.lines(/^Docker answers again/)).toHaveLength(1);
    const healthy = await api<Health>(stack, '/healthz', { key: null });
    expect(healthy.body).toMatchObject({ status: 'ok', docker: true });
  });
});
