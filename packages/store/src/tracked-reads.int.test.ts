import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TrackedReads } from './tracked-reads.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(url);
const writer = new Redis(url);
const prefix = `autolab-test-tracked-${randomBytes(4).toString('hex')}`;
const open: TrackedReads<string>[] = [];

/** A cache of one hash field, counting the reads that reached Redis. */
function cacheOf(maxAgeMs = 60_000) {
  const name = `${prefix}-${open.length}`;
  const cache = new TrackedReads<string>(redis, { maxEntries: 100, maxAgeMs, name });
  open.push(cache);
  const loads: string[] = [];
  const read = (key: string) =>
    cache.read(key, async (reader) => {
      loads.push(key);
      return reader.hget(key, 'v');
    });
  return { cache, name, loads, read };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** Kills the cache's connection named `<name>:<role>` on the server, as a network failure would. */
async function killConnection(name: string, role: 'reader' | 'invalidations'): Promise<void> {
  const list = String(await redis.client('LIST'));
  const line = list.split('\n').find((l) => l.includes(` name=${name}:${role} `));
  if (!line) throw new Error(`no connection ${name}:${role}`);
  await redis.client('KILL', 'ID', /\bid=(\d+)/.exec(line)![1]!);
}

describe('TrackedReads (real Redis): values kept until Redis says they changed', () => {
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await Promise.all([redis.quit(), writer.quit()]);
  });

  it('answers a kept value without asking Redis, and reads again at once after another client changes it', async () => {
    const { cache, loads, read } = cacheOf();
    const key = `${prefix}:a`;
    await writer.hset(key, 'v', 'one');
    await until(() => cache.active, 'tracking');
    expect(await read(key)).toBe('one');
    expect(await read(key)).toBe('one');
    expect(await read(key)).toBe('one');
    expect(loads).toHaveLength(1);
    await writer.hset(key, 'v', 'two');
    // The invalidation is a message on another connection: it arrives within a moment, not after maxAge (60 s).
    await until(async () => (await read(key)) === 'two', 'the changed value', 1000);
    expect(loads).toHaveLength(2);
    // Kept again, and a write in a MULTI or a deletion invalidates as well.
    expect(await read(key)).toBe('two');
    expect(loads).toHaveLength(2);
    await writer.multi().hset(key, 'v', 'three').exec();
    await until(async () => (await read(key)) === 'three', 'the value written in MULTI', 1000);
    await writer.del(key);
    await until(async () => (await read(key)) === null, 'the deletion', 1000);
  });

  it('does not keep a read that a write overtook while it was in flight', async () => {
    const { cache } = cacheOf();
    const key = `${prefix}:b`;
    await writer.hset(key, 'v', 'old');
    await until(() => cache.active, 'tracking');
    let loads = 0;
    const slowRead = () =>
      cache.read(key, async (reader) => {
        loads++;
        const value = await reader.hget(key, 'v');
        if (loads === 1) {
          // Another client writes after Redis answered but before the answer is kept.
          await writer.hset(key, 'v', 'new');
          await delay(100);
        }
        return value;
      });
    // The callers of the read get its answer...
    expect(await slowRead()).toBe('old');
    // ...but it was not kept: the next read goes to Redis.
    expect(await slowRead()).toBe('new');
    expect(loads).toBe(2);
  });

  it('shares one read between callers, keeps no null, and reads again after maxAge even with no message', async () => {
    const { cache, loads, read } = cacheOf(300);
    const key = `${prefix}:c`;
    await until(() => cache.active, 'tracking');
    expect(await read(key)).toBeNull();
    expect(await read(key)).toBeNull();
    expect(loads).toHaveLength(2);
    await writer.hset(key, 'v', 'x');
    await delay(50);
    expect(await Promise.all([read(key), read(key), read(key)])).toEqual(['x', 'x', 'x']);
    expect(loads).toHaveLength(3);
    await delay(350);
    expect(await read(key)).toBe('x');
    expect(loads).toHaveLength(4);
  });

  for (const role of ['invalidations', 'reader'] as const) {
    it(`drops every value when its ${role} connection is cut, and tracks again once it is back`, async () => {
      const { cache, name, loads, read } = cacheOf();
      const key = `${prefix}:d-${role}`;
      await writer.hset(key, 'v', 'before');
      await until(() => cache.active, 'tracking');
      expect(await read(key)).toBe('before');
      await killConnection(name, role);
      await until(() => !cache.active, 'tracking to stop');
      // Written while the connection was down: Redis could not tell this cache, so it must not answer what it kept.
      await writer.hset(key, 'v', 'while-down');
      expect(await read(key)).toBe('while-down');
      await until(() => cache.active, 'tracking to be back');
      expect(await read(key)).toBe('while-down');
      const before = loads.length;
      expect(await read(key)).toBe('while-down');
      expect(loads).toHaveLength(before);
      await writer.hset(key, 'v', 'after');
      await until(async () => (await read(key)) === 'after', 'invalidation after reconnecting', 1000);
    });
  }
});
