import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadApiConfig, startApi } from '@autolab/api';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { startSlowRedisProxy } from '../slow-redis-proxy.js';
import { startStack } from '../stack.js';
import { deleteKeysWithPrefix } from '../test-resources.js';

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
  // BullMQ's connections of the API and the worker are checked 1.5 s after they connect: closing the stack as soon
  // as it started lands in that check, where on a fast Redis only now and then a close lands.
  const proxy = await startSlowRedisProxy(REDIS_URL, 1500);
  try {
    const rejections = await unhandledRejectionsOf(async () => {
      const stack = await startStack({ redisUrl: proxy.url });
      await stack.close();
    }, 2000);
    expect(rejections.map((r) => (r instanceof Error ? r.message : String(r)))).toEqual([]);
  } finally {
    await proxy.close();
  }
}, 60_000);

/** Starts an API (no auth, its own data directory) against `redisUrl` and closes it at once. */
async function startAndCloseApi(redisUrl: string): Promise<void> {
  const prefix = `autolab-test-${randomBytes(4).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'autolab-test-'));
  try {
    const api = await startApi(
      loadApiConfig({
        ...process.env,
        REDIS_URL: redisUrl,
        AUTOLAB_REDIS_PREFIX: prefix,
        AUTOLAB_DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: '0',
        AUTOLAB_AUTH: 'off',
      }),
    );
    await api.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    const redis = new Redis(REDIS_URL);
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  }
}

it('an API closed while its queue connection is being checked leaves no command behind that fails later', async () => {
  // The API listens before BullMQ has checked its queue's connection (1.5 s here), so it can be closed during the
  // check. The queue is given a connection the API quits after closing the queue: the check is answered before the
  // QUIT. (Disconnecting it instead would fail the check after the queue dropped its error listener.)
  const proxy = await startSlowRedisProxy(REDIS_URL, 1500);
  try {
    const rejections = await unhandledRejectionsOf(() => startAndCloseApi(proxy.url), 2000);
    expect(rejections.map((r) => (r instanceof Error ? r.message : String(r)))).toEqual([]);
  } finally {
    await proxy.close();
  }
}, 60_000);
