import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, KEY_LOOKUP_REUSE_MS } from './api-key-store.js';
import { RedisKeys } from './redis-keys.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`autolab-test-keys-${randomBytes(4).toString('hex')}`);

describe('ApiKeyStore (real Redis): key lookups reused for at most a second', () => {
  afterAll(async () => {
    const found = await redis.keys(`${keys.prefix}:*`);
    if (found.length) await redis.del(...found);
    await redis.quit();
  });

  it('stops a key revoked at once on this process, and within KEY_LOOKUP_REUSE_MS on another', async () => {
    let now = Date.now();
    const clock = () => now;
    // Two API processes on one Redis.
    const here = new ApiKeyStore(redis, keys, clock);
    const there = new ApiKeyStore(redis, keys, clock);
    const { record, key } = await here.create({ tenant: 't' });
    expect((await here.verify(key))?.id).toBe(record.id);
    expect((await there.verify(key))?.id).toBe(record.id);
    await here.revoke(record.id);
    expect(await here.verify(key)).toBeNull();
    // The other process may still use its lookup, for less than the reuse time ...
    now += KEY_LOOKUP_REUSE_MS - 1;
    expect((await there.verify(key))?.id).toBe(record.id);
    // ... and never after it.
    now += 2;
    expect(await there.verify(key)).toBeNull();
  });

  it('checks expiry on every request, also on a reused lookup', async () => {
    let now = Date.now();
    const store = new ApiKeyStore(redis, keys, () => now);
    const { key } = await store.create({ tenant: 't', expiresAt: new Date(now + 100).toISOString() });
    expect(await store.verify(key)).not.toBeNull();
    now += 101;
    expect(await store.verify(key)).toBeNull();
  });
});
