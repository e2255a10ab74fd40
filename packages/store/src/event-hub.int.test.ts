import { randomBytes } from 'node:crypto';
import type { RunEvent } from '@autolab/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHub } from './event-hub.js';
import { RedisKeys } from './redis-keys.js';
import { RunStore } from './run-store.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = new RedisKeys(`autolab-test-hub-${randomBytes(4).toString('hex')}`);
// Named, so that CLIENT LIST tells this test's connections from those of anything else sharing the Redis server.
const connectionName = `hubtest-${randomBytes(4).toString('hex')}`;
const redis = new Redis(url, { connectionName });
const blocking = new Redis(url, { maxRetriesPerRequest: null, connectionName });
const store = new RunStore(redis, keys);
const hub = new EventHub(blocking, redis, keys, store);

const note = (i: number) =>
  ({ type: 'warning', message: `event ${i}`, data: { code: 'test', detail: String(i) } }) as const;

describe('EventHub (real Redis)', () => {
  beforeAll(async () => {
    await redis.ping();
  });
  afterAll(async () => {
    await hub.close();
    const found = await redis.keys(`${keys.prefix}:*`);
    if (found.length) await redis.del(...found);
    blocking.disconnect();
    await redis.quit();
  });

  it('delivers backlog then live events to many subscribers, each exactly once and in order, while writes race', async () => {
    const runId = 'run_hubtest0000000000000000001';
    for (let i = 0; i < 20; i++) await store.appendEvent(runId, note(i));
    const all = await store.readEvents(runId, '0', 1000);
    const subscribers: { after: string; got: RunEvent[] }[] = [];
    const unsubscribes: (() => void)[] = [];
    // Writers and subscribers start interleaved, so some subscribers join while events are being appended.
    const writer = (async () => {
      for (let i = 20; i < 120; i++) {
        await store.appendEvent(runId, note(i));
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    for (let s = 0; s < 12; s++) {
      const after = s % 3 === 0 ? '0' : all[s]!.id;
      const sub = { after, got: [] as RunEvent[] };
      subscribers.push(sub);
      unsubscribes.push(await hub.subscribe(runId, after, (e) => sub.got.push(e)));
      await new Promise((r) => setTimeout(r, 3));
    }
    await writer;
    const final = await store.readEvents(runId, '0', 1000);
    expect(final).toHaveLength(120);
    const deadline = Date.now() + 10_000;
    while (
      Date.now() < deadline &&
      subscribers.some((s) => s.got.length < final.filter((e) => e.id > s.after || s.after === '0').length)
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const sub of subscribers) {
      const start = sub.after === '0' ? 0 : final.findIndex((e) => e.id === sub.after) + 1;
      expect(sub.got.map((e) => e.id)).toEqual(final.slice(start).map((e) => e.id));
    }
    for (const unsubscribe of unsubscribes) unsubscribe();
  });

  it('uses one blocking connection for any number of watched runs', async () => {
    const runs = Array.from({ length: 30 }, (_, i) => `run_hubtest${String(i).padStart(18, '0')}`);
    const received = new Map<string, number>();
    const stops = await Promise.all(
      runs.map((id) => hub.subscribe(id, '0', () => received.set(id, (received.get(id) ?? 0) + 1))),
    );
    await Promise.all(runs.map((id) => store.appendEvent(id, note(1))));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && received.size < runs.length) await new Promise((r) => setTimeout(r, 50));
    expect(received.size).toBe(runs.length);
    const clients = (await redis.client('LIST')) as string;
    const blockedOnXread = clients
      .split('\n')
      .filter((l) => l.includes(` name=${connectionName} `) && /cmd=xread/.test(l));
    expect(blockedOnXread.length).toBeLessThanOrEqual(1);
    for (const stop of stops) stop();
  });
});
