import type { RunRecord } from '@autolab/contracts';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

let stack: Stack;

describe('cancel', () => {
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stops a running experiment within seconds and removes its sandbox', async () => {
    const run = await submitRun(stack, { goal: 'Count slowly so that the run can be cancelled.', model: 'slow' });
    // Wait until the experiment is really running in its container.
    await readSse(stack, run.id, {
      stopWhen: (e) => e.type === 'exec.output' && (e.data as { text: string }).text.includes('step 2'),
      timeoutMs: 120_000,
    });
    const docker = new Docker();
    expect(await docker.listContainers({ filters: { label: [`autolab.run=${run.id}`] } })).toHaveLength(1);

    const started = Date.now();
    const res = await api<RunRecord>(stack, `/v1/runs/${run.id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(202);
    const final = await waitForStatus(stack, run.id, ['cancelled', 'failed', 'succeeded'], 30_000);
    expect(final.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(10_000);

    const events = (await readSse(stack, run.id)).events;
    expect(events.map((e) => e.type)).toContain('run.cancel_requested');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'cancelled' } });
    expect(await docker.listContainers({ all: true, filters: { label: [`autolab.run=${run.id}`] } })).toEqual([]);

    // Cancelling again is harmless; cancelling a finished run is a clear 409.
    expect((await api(stack, `/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
  });

  it('cancels a queued run at once, and the worker never starts it', async () => {
    const idle = await startStack({ worker: false });
    try {
      const run = await submitRun(idle, { goal: 'This run waits in the queue and is cancelled there.' });
      const res = await api<RunRecord>(idle, `/v1/runs/${run.id}/cancel`, { method: 'POST' });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('cancelled');
      await idle.startWorker();
      await new Promise((r) => setTimeout(r, 1500));
      const events = (await readSse(idle, run.id)).events.map((e) => e.type);
      expect(events).toEqual(['run.queued', 'run.finished']);
    } finally {
      await idle.close();
    }
  });

  it('refuses to cancel a run that already succeeded', async () => {
    const run = await submitRun(stack, {
      goal: 'A short successful run to try cancelling afterwards.',
      maxIterations: 2,
    });
    await waitForStatus(stack, run.id, ['succeeded', 'failed'], 240_000);
    const res = await api<{ error: { code: string } }>(stack, `/v1/runs/${run.id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('run_already_finished');
  });
});
