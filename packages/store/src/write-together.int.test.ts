import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTogether } from './redis-write-together.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

/** How many times the client's socket hands data to the system while `send` runs (each is one system call). */
async function socketWrites(send: () => Promise<unknown>): Promise<number> {
  const socket = (redis as unknown as { stream: Socket & { _write: unknown; _writev: unknown } }).stream;
  let writes = 0;
  const write = socket._write as (...args: unknown[]) => void;
  const writev = socket._writev as (...args: unknown[]) => void;
  socket._write = (...args: unknown[]) => {
    writes++;
    write.apply(socket, args);
  };
  socket._writev = (...args: unknown[]) => {
    writes++;
    writev.apply(socket, args);
  };
  try {
    await send();
  } finally {
    socket._write = write;
    socket._writev = writev;
  }
  return writes;
}

describe('writeTogether (real Redis)', () => {
  afterAll(async () => {
    await redis.quit();
  });

  it('sends commands issued in one burst of microtasks in one socket write, and answers each', async () => {
    await redis.ping();
    const apart = await socketWrites(() => Promise.all([redis.time(), Promise.resolve().then(() => redis.time())]));
    expect(apart).toBe(2);
    let answers: unknown[] = [];
    const together = await socketWrites(async () => {
      writeTogether(redis);
      answers = await Promise.all([redis.time(), Promise.resolve().then(() => redis.echo('second'))]);
    });
    expect(together).toBe(1);
    expect(answers[1]).toBe('second');
    // Released on the next tick: a later command is not held back.
    expect(await redis.echo('later')).toBe('later');
  });
});
