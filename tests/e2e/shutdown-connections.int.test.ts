import { expect, it } from 'vitest';
import { startSlowRedisProxy } from '../slow-redis-proxy.js';
import { startStack } from '../stack.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Sockets of this process connected to the Redis server's port. */
function redisSockets(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter(
    (h) => (h as { remotePort?: number }).remotePort === port && !(h as { destroyed?: boolean }).destroyed,
  ).length;
}

/** Runs `body` and returns the promise rejections nobody handled meanwhile (and `settleMs` after it). */
async function unhandledRejectionsOf(body: () => Promise<void>, settleMs: number): Promise<unknown[]> {
  const rejections: unknown[] = [];
  const record = (reason: unknown) => rejections.push(reason);
  process.on('unhandledRejection', record);
  try {
    await body();
    await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    process.off('unhandledRejection', record);
  }
  return rejections;
}

it('an API and a worker that are closed leave no Redis connection open (a process that closed them can exit)', async () => {
  const port = Number(new URL(REDIS_URL).port || 6379);
  const before = redisSockets(port);
  const stack = await startStack();
  expect(redisSockets(port)).toBeGreaterThan(before);
  await stack.close();
  // ioredis ends a quit connection once the server has answered the QUIT.
  const deadline = Date.now() + 5_000;
  while (redisSockets(port) > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(redisSockets(port)).toBe(before);
}, 60_000);

it('a stack closed while its queue connections are still connecting leaves no command behind that fails later', async () => {
  // Redis answers INFO after 600 ms: BullMQ's connections of the worker are usable only 1.2 s after they were opened
  // (ioredis's ready check, then BullMQ's version check). Closing the stack 0.9 s after it started lands in the
  // version check, where on a fast Redis only now and then a close lands.
  const proxy = await startSlowRedisProxy(REDIS_URL, 600);
  try {
    const rejections = await unhandledRejectionsOf(async () => {
      const stack = await startStack({ redisUrl: proxy.url });
      await new Promise((r) => setTimeout(r, 900));
      await stack.close();
    }, 1500);
    expect(rejections.map((r) => (r instanceof Error ? r.message : String(r)))).toEqual([]);
  } finally {
    await proxy.close();
  }
}, 60_000);
