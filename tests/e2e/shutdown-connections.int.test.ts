import { expect, it } from 'vitest';
import { startStack } from '../stack.js';

/** Sockets of this process connected to the Redis server's port. */
function redisSockets(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter(
    (h) => (h as { remotePort?: number }).remotePort === port && !(h as { destroyed?: boolean }).destroyed,
  ).length;
}

it('an API and a worker that are closed leave no Redis connection open (a process that closed them can exit)', async () => {
  const port = Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379);
  const before = redisSockets(port);
  const stack = await startStack();
  expect(redisSockets(port)).toBeGreaterThan(before);
  await stack.close();
  // ioredis ends a quit connection once the server has answered the QUIT.
  const deadline = Date.now() + 5_000;
  while (redisSockets(port) > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(redisSockets(port)).toBe(before);
}, 60_000);
