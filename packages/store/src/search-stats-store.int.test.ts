import { randomBytes } from 'node:crypto';
import { emptyCounts } from '@autolab/lessons';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisKeys } from './redis-keys.js';
import { SearchStatsStore } from './search-stats-store.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`autolab-test-search-stats-${randomBytes(4).toString('hex')}`);

describe('SearchStatsStore (real Redis): a tenant’s search counts, each run added once', () => {
  afterAll(async () => {
    const found = await redis.keys(`${keys.prefix}:*`);
    if (found.length > 0) await redis.del(...found);
    await redis.quit();
  });

  it('sums runs per tenant, adds a run recorded twice once, and keeps tenants apart', async () => {
    const store = new SearchStatsStore(redis, keys);
    const run = {
      ...emptyCounts(),
      drafts: 2,
      draftsWorked: 1,
      debugs: { 1: 2, 2: 1 },
      debugsFixed: { 1: 1 },
      stageNodes: { baseline: 4, tuning: 1 },
      stageImproved: { tuning: 1 },
    };
    expect(await store.record('alpha', 'run_1', run)).toBe(true);
    expect(await store.record('alpha', 'run_1', run)).toBe(false);
    await Promise.all([store.record('alpha', 'run_2', run), store.record('alpha', 'run_3', run)]);
    expect(await store.counts('alpha')).toEqual({
      runs: 3,
      drafts: 6,
      draftsWorked: 3,
      debugs: { 1: 6, 2: 3 },
      debugsFixed: { 1: 3 },
      stageNodes: { baseline: 12, tuning: 3 },
      stageImproved: { tuning: 3 },
    });
    expect(await store.counts('beta')).toEqual(emptyCounts());
  });
});
