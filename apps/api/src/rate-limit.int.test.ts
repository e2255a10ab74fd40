import { randomBytes } from 'node:crypto';
import { RateLimiter, RedisKeys } from '@autolab/store';
import fastifyRateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { gcraStore } from './rate-limit.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`autolab-test-ratelimit-${randomBytes(4).toString('hex')}`);

const MAX = 10;
const WINDOW_MS = 3000;
const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

/**
 * The plugin on a bare app with a given store, and the window-edge pattern that a counter per fixed window lets
 * through twice: one request opens the window, the rest of the limit comes just before it ends, and a full limit
 * again just after. Returns how many requests were allowed from just before the edge on, and over how many ms.
 */
async function windowEdge(store: Partial<RateLimitPluginOptions>): Promise<{ allowed: number; spanMs: number }> {
  const app = Fastify();
  await app.register(fastifyRateLimit, { max: MAX, timeWindow: WINDOW_MS, keyGenerator: () => 'edge', ...store });
  app.get('/', async () => 'ok');
  let allowed = 0;
  const hit = async () => {
    if ((await app.inject('/')).statusCode === 200) allowed++;
  };
  try {
    const start = Date.now();
    await hit();
    await sleepUntil(start + WINDOW_MS - 1000);
    const first = Date.now();
    allowed = 0;
    for (let i = 1; i < MAX; i++) await hit();
    await sleepUntil(start + WINDOW_MS + 100);
    for (let i = 0; i < MAX; i++) await hit();
    return { allowed, spanMs: Date.now() - first };
  } finally {
    await app.close();
  }
}

describe('@fastify/rate-limit with our GCRA store (real Redis)', () => {
  afterAll(async () => {
    const found = await redis.keys(`${keys.prefix}:*`);
    if (found.length) await redis.del(...found);
    await redis.quit();
  });

  it('lets no second full allowance through at a window edge, unlike the plugin’s own Redis store', async () => {
    const interval = WINDOW_MS / MAX;
    const [ours, fixedWindow] = await Promise.all([
      windowEdge({ store: gcraStore(new RateLimiter(redis, keys)) }),
      windowEdge({ redis, nameSpace: `${keys.prefix}:fixed-window:` }),
    ]);
    // The fixed window: 9 just before the edge, 10 just after it — nearly twice the limit within about a second.
    expect(fixedWindow.allowed).toBe(2 * MAX - 1);
    // GCRA: in any span at most the burst plus what the rate refills in it (here ~10 + 4).
    expect(ours.allowed).toBeLessThanOrEqual(MAX + Math.ceil(ours.spanMs / interval));
    expect(ours.allowed).toBeLessThan(fixedWindow.allowed);
  });

  it('reports the limit, what is left and when to retry in the plugin’s headers', async () => {
    const app = Fastify();
    await app.register(fastifyRateLimit, {
      max: 3,
      timeWindow: 60_000,
      keyGenerator: () => 'headers',
      store: gcraStore(new RateLimiter(redis, keys)),
    });
    app.get('/', async () => 'ok');
    try {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await app.inject('/'));
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429]);
      expect(answers.map((a) => a.headers['x-ratelimit-limit'])).toEqual(['3', '3', '3', '3']);
      expect(answers.map((a) => a.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
      // One request a minute / 3 refills every 20 s: the refusal says when the next one is allowed.
      const retryAfter = Number(answers[3]!.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(19);
      expect(retryAfter).toBeLessThanOrEqual(20);
    } finally {
      await app.close();
    }
  });
});
