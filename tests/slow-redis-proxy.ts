import { once } from 'node:events';
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a Redis server that is slow to answer BullMQ's version check: on each connection the first
 * INFO (ioredis's ready check) is answered at once, but after a later one (BullMQ's INFO once the connection is ready)
 * nothing comes back on that connection for `infoDelayMs`, then everything does, in order. What a client does while a
 * BullMQ Queue's or Worker's connection is still being checked — on a fast local Redis a window of a few hundred
 * microseconds that a test hits now and then — then happens every time.
 */
export interface SlowRedisProxy {
  /** The target's URL with the proxy's address. */
  url: string;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

/** An INFO command without arguments, as clients send it (RESP array of one bulk string). */
const INFO_COMMAND = /\*1\r\n\$4\r\ninfo\r\n/i;

export async function startSlowRedisProxy(targetUrl: string, infoDelayMs: number): Promise<SlowRedisProxy> {
  const target = new URL(targetUrl);
  const connections = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 6379) });
    connections.add(client);
    connections.add(upstream);
    let infoCommands = 0;
    let heldUntil = 0;
    let pending: Buffer[] = [];
    let timer: NodeJS.Timeout | null = null;
    let upstreamEnded = false;
    const drop = () => {
      if (timer) clearTimeout(timer);
      client.destroy();
      upstream.destroy();
      connections.delete(client);
      connections.delete(upstream);
    };
    const flush = () => {
      timer = null;
      const wait = heldUntil - Date.now();
      if (wait > 0) {
        timer = setTimeout(flush, wait);
        return;
      }
      for (const chunk of pending) client.write(chunk);
      pending = [];
      if (upstreamEnded) drop();
    };
    client.on('data', (chunk: Buffer) => {
      if (INFO_COMMAND.test(chunk.toString('latin1')) && ++infoCommands > 1) heldUntil = Date.now() + infoDelayMs;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      if (!timer) flush();
    });
    // What the server said before it closed still reaches the client (a QUIT's OK), then the client sees the close.
    upstream.on('close', () => {
      upstreamEnded = true;
      if (!timer) flush();
    });
    client.on('close', drop);
    client.on('error', drop);
    upstream.on('error', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    async close() {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
