import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Redis, ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { failFastRedisOptions, isRedisUnavailable } from './redis-availability.js';

describe('isRedisUnavailable', () => {
  it('is true for a command refused while nothing is connected (fail-fast client)', async () => {
    const client = new Redis('redis://127.0.0.1:9', { ...failFastRedisOptions(500), retryStrategy: () => null });
    client.on('error', () => undefined);
    const err = await client.get('k').catch((e: unknown) => e);
    client.disconnect();
    expect(isRedisUnavailable(err)).toBe(true);
  });

  it('is true for a command a hung server never answers (command timeout)', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client = new Redis(port, '127.0.0.1', { ...failFastRedisOptions(200), enableReadyCheck: false });
    client.on('error', () => undefined);
    await once(client, 'ready');
    const started = Date.now();
    const err = await client.get('k').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_000);
    client.disconnect();
    for (const socket of sockets) socket.destroy();
    server.close();
    expect(isRedisUnavailable(err)).toBe(true);
  });

  it('is true for a server that cannot serve yet, false for bugs and bad commands', () => {
    expect(isRedisUnavailable(new ReplyError('LOADING Redis is loading the dataset in memory'))).toBe(true);
    expect(isRedisUnavailable(new ReplyError('MASTERDOWN Link with MASTER is down'))).toBe(true);
    expect(
      isRedisUnavailable(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')),
    ).toBe(false);
    expect(isRedisUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isRedisUnavailable('Command timed out')).toBe(false);
  });
});
