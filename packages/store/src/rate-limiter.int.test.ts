import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LEASE_MS, RateLimiter } from './rate-limiter.js';
import { RedisKeys } from './redis-keys.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = new RedisKeys(`autolab-test-limiter-${randomBytes(4).toString('hex')}`);
const connections: Redis[] = [];

/** A limiter as one API process has it (its own connection), counting the calls that reach Redis. */
function process_() {
  const redis = new Redis(url);
  connections.push(redis);
  const limiter = new RateLimiter(redis, keys);
  const calls = { count: 0 };
  const client = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const script = client.autolabGcra!.bind(redis);
  client.autolabGcra = (...args) => {
    calls.count++;
    return script(...args);
  };
  return { limiter, calls };
}

describe('RateLimiter (real Redis): GCRA shared by every process, taken in leases', () => {
  afterAll(async () => {
    const found = await connections[0]!.keys(`${keys.prefix}:*`);
    if (found.length) await connections[0]!.del(...found);
    await Promise.all(connections.map((c) => c.quit()));
  });

  it('lets a busy key through with a few Redis calls a second, not one per request', async () => {
    const { limiter, calls } = process_();
    let allowed = 0;
    for (let i = 0; i < 2000; i++) if ((await limiter.hit('busy', 100_000, 60_000)).allowed) allowed++;
    expect(allowed).toBe(2000);
    // 1 + 2 + 4 + … up to 100 at a time.
    expect(calls.count).toBeLessThan(40);
  });

  it('never lets more than the limit through, with two processes hammering one key at once', async () => {
    const a = process_();
    const b = process_();
    // 40 a minute: one more every 1.5 s after a burst of 40; leases of up to 5.
    const started = Date.now();
    const hammer = async (limiter: RateLimiter) => {
      let allowed = 0;
      for (let i = 0; i < 100; i++) {
        const results = await Promise.all(Array.from({ length: 5 }, () => limiter.hit('shared', 40, 60_000)));
        allowed += results.filter((r) => r.allowed).length;
      }
      return allowed;
    };
    const [fromA, fromB] = await Promise.all([hammer(a.limiter), hammer(b.limiter)]);
    const refilled = Math.floor((Date.now() - started) / 1500) + 1;
    expect(fromA + fromB).toBeGreaterThanOrEqual(40 - 2 * 5); // at most a lease each held back
    expect(fromA + fromB).toBeLessThanOrEqual(40 + refilled);
  });

  it('gives back what a process took and did not use, so another process can spend the whole burst', async () => {
    const a = process_();
    const b = process_();
    // 80 per 10 minutes: nothing refills during the test (one every 7.5 s); leases of up to 10.
    const hit = (limiter: RateLimiter) => limiter.hit('returned', 80, 600_000);
    for (let i = 0; i < 12; i++) expect((await hit(a.limiter)).allowed).toBe(true);
    // a took 1 + 2 + 4 + 8 = 15 and holds 3; they go back when its lease ends.
    await delay(LEASE_MS + 300);
    let fromB = 0;
    while ((await hit(b.limiter)).allowed) fromB++;
    expect(12 + fromB).toBe(80);
  });

  it('remembers a refusal until the bucket allows again, without asking Redis for each refused request', async () => {
    const { limiter, calls } = process_();
    // 3 a minute: one every 20 s.
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await limiter.hit('refused', 3, 60_000));
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, false]);
    expect(answers.map((a) => a.remaining)).toEqual([2, 1, 0, 0]);
    expect(answers[3]!.waitMs).toBeGreaterThan(19_000);
    const before = calls.count;
    for (let i = 0; i < 100; i++) expect((await limiter.hit('refused', 3, 60_000)).allowed).toBe(false);
    expect(calls.count).toBe(before);
  });
});
