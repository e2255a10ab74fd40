import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisKeys } from './redis-keys.js';
import { RunStore, RunSupersededError } from './run-store.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`autolab-test-ckpt-${randomBytes(4).toString('hex')}`);
const store = new RunStore(redis, keys);

async function newRun(): Promise<string> {
  const { run } = await store.create({
    goal: 'checkpoint storage',
    models: { code: 'm', judge: 'm', writeup: 'm', review: 'm', ideas: 'm', vision: null },
    budgetUsd: null,
    tenant: 'test',
    maxIterations: 3,
    timeLimitMinutes: 5,
    sandbox: { cpus: 1, memoryMb: 256, execTimeoutSeconds: 10 },
    search: { numDrafts: 1 },
    ideation: { numIdeas: 1, reflections: 0 },
    review: { reviewers: 0 },
    seeds: 0,
    pageLimit: 4,
  } as Parameters<RunStore['create']>[0]);
  await store.markStarted(run.id, 1, {
    type: 'run.started',
    message: 'started',
    data: { attempt: 1, worker: 'w', resumedAt: null },
  });
  return run.id;
}

const head = (nodeIds: string[]) => JSON.stringify({ version: 3, nodeIds });

describe('checkpoints in Redis: a small head and each node once', () => {
  afterAll(async () => {
    const found = await redis.keys(`${keys.prefix}:*`);
    if (found.length) await redis.del(...found);
    await redis.quit();
  });

  it('adds nodes to the hash, replaces them on a replacing write, and reads head and nodes back together', async () => {
    const runId = await newRun();
    expect(await store.loadCheckpoint(runId)).toBeNull();
    await store.saveCheckpoint(
      runId,
      { head: head(['n001']), nodes: { n001: '{"id":"n001","v":1}' }, replace: true },
      1,
    );
    await store.saveCheckpoint(
      runId,
      { head: head(['n001', 'n002']), nodes: { n002: '{"id":"n002"}' }, replace: false },
      1,
    );
    expect(await store.loadCheckpoint(runId)).toEqual({
      head: { version: 3, nodeIds: ['n001', 'n002'] },
      nodes: { n001: { id: 'n001', v: 1 }, n002: { id: 'n002' } },
    });
    // A rerun that forgot the experiments: its first write replaces the stored nodes.
    await store.saveCheckpoint(
      runId,
      { head: head(['n001']), nodes: { n001: '{"id":"n001","v":2}' }, replace: true },
      1,
    );
    expect(await store.loadCheckpoint(runId)).toEqual({
      head: { version: 3, nodeIds: ['n001'] },
      nodes: { n001: { id: 'n001', v: 2 } },
    });
  });

  it('refuses the write of an attempt that no longer owns the run, changing nothing', async () => {
    const runId = await newRun();
    await store.saveCheckpoint(runId, { head: head(['n001']), nodes: { n001: '{"id":"n001"}' }, replace: true }, 1);
    await store.markStarted(runId, 2, {
      type: 'run.started',
      message: 'again',
      data: { attempt: 2, worker: 'w', resumedAt: 1 },
    });
    await expect(
      store.saveCheckpoint(runId, { head: head([]), nodes: { n009: '{}' }, replace: true }, 1),
    ).rejects.toBeInstanceOf(RunSupersededError);
    expect(await store.loadCheckpoint(runId)).toEqual({
      head: { version: 3, nodeIds: ['n001'] },
      nodes: { n001: { id: 'n001' } },
    });
  });

  it('reads a checkpoint written as one whole-state document (workers before per-node storage) as its head', async () => {
    const runId = await newRun();
    const whole = { version: 3, nodes: [{ id: 'n001' }] };
    await redis.set(keys.checkpoint(runId), JSON.stringify(whole));
    expect(await store.loadCheckpoint(runId)).toEqual({ head: whole, nodes: {} });
  });
});
