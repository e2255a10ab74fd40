import { loadApiConfig, startApi } from '@autolab/api';
import type { RunRecord } from '@autolab/contracts';
import { RedisKeys, RunStore } from '@autolab/store';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Stack, startStack, submitRun } from '../stack.js';

/**
 * `GET /v1/runs/:id` answers from records each API process keeps until Redis reports the run changed
 * (docs/operations.md, "Run records kept by the API"): a reader must never see a record older than Redis's, whoever
 * wrote it — the worker, this API process, or another one.
 */
let stack: Stack;
let worker: Redis;
let second: Awaited<ReturnType<typeof startApi>>;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  worker = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  second = await startApi(
    loadApiConfig({
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      AUTOLAB_REDIS_PREFIX: stack.prefix,
      AUTOLAB_DATA_DIR: stack.dataDir,
      AUTOLAB_ADMIN_KEY: stack.adminKey,
      LOG_LEVEL: 'warn',
    }),
  );
}, 120_000);

afterAll(async () => {
  await second?.close();
  await worker?.quit();
  await stack?.close();
});

const getRun = async (id: string, apiUrl = stack.apiUrl) => {
  const res = await fetch(`${apiUrl}/v1/runs/${id}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as RunRecord;
};

describe('GET /v1/runs/:id from the records the API keeps', () => {
  it('answers every change another process makes as soon as that write has returned, not the record it kept', async () => {
    const run = await submitRun(stack, { goal: 'A run whose record a worker keeps changing.' });
    // As a worker writes progress: through its own connection, straight to the run's hash.
    const store = new RunStore(worker, new RedisKeys(stack.prefix));
    expect((await getRun(run.id)).status).toBe('queued');
    expect((await getRun(run.id)).status).toBe('queued');
    expect(
      await store.markStarted(run.id, 1, {
        type: 'run.started',
        message: 'started',
        data: { attempt: 1, worker: 'test', resumedAt: null },
      }),
    ).toBe(true);
    expect((await getRun(run.id)).status).toBe('running');
    for (let iteration = 1; iteration <= 30; iteration++) {
      await worker.hset(new RedisKeys(stack.prefix).run(run.id), 'iteration', String(iteration));
      // Read at once, through both API processes (each keeps its own records).
      expect((await getRun(run.id)).iteration).toBe(iteration);
      expect((await getRun(run.id, second.url)).iteration).toBe(iteration);
    }
  });

  it('answers a cancel made through another API process at once', async () => {
    const run = await submitRun(stack, { goal: 'A run cancelled through the other API process.' });
    expect((await getRun(run.id)).status).toBe('queued');
    expect((await getRun(run.id, second.url)).status).toBe('queued');
    const cancel = await fetch(`${second.url}/v1/runs/${run.id}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    expect(cancel.status).toBe(202);
    expect((await getRun(run.id)).status).toBe('cancelled');
    expect((await getRun(run.id, second.url)).status).toBe('cancelled');
    // And through this one, after a rerun of the cancelled run.
    const rerun = await api<RunRecord>(stack, `/v1/runs/${run.id}/rerun`, {
      method: 'POST',
      body: JSON.stringify({ fromStage: 'writeup' }),
    });
    expect(rerun.status).toBe(202);
    expect((await getRun(run.id)).status).toBe('queued');
    expect((await getRun(run.id, second.url)).status).toBe('queued');
  });

  it("keeps a tenant's run from another tenant however it was kept", async () => {
    const run = await submitRun(stack, { goal: 'A run another tenant must not read from the kept records.' });
    expect((await getRun(run.id)).id).toBe(run.id);
    const other = await api<{ key: string }>(stack, '/v1/admin/keys', {
      method: 'POST',
      key: stack.adminKey,
      body: JSON.stringify({ tenant: 'someone-else' }),
    });
    const res = await fetch(`${stack.apiUrl}/v1/runs/${run.id}`, {
      headers: { authorization: `Bearer ${other.body.key}` },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('run_not_found');
  });
});
