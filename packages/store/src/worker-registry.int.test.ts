import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisKeys } from './redis-keys.js';
import { WorkerRegistry } from './worker-registry.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`autolab-test-workers-${randomBytes(4).toString('hex')}`);
const heartbeat = (workerId: string) => ({
  workerId,
  host: 'h',
  pid: 1,
  startedAt: new Date().toISOString(),
  concurrency: 1,
  activeRuns: [],
  dockerOk: true,
});

describe('WorkerRegistry (real Redis)', () => {
  afterAll(async () => {
    const found = await redis.keys(`${keys.prefix}:*`);
    if (found.length) await redis.del(...found);
    await redis.quit();
  });

  it('lists the live workers from its index (no keyspace scan), and drops dead ones from it', async () => {
    const registry = new WorkerRegistry(redis, keys);
    await registry.beat(heartbeat('alive'), 30_000);
    await registry.beat(heartbeat('dying'), 50);
    await registry.beat(heartbeat('leaving'), 30_000);
    await registry.remove('leaving');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect((await registry.list()).map((w) => w.workerId)).toEqual(['alive']);
    expect(await redis.smembers(keys.workerIndex())).toEqual(['alive']);
    expect(await registry.isAlive('dying')).toBe(false);
  });
});
