import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A unix socket that forwards every byte to the real Docker socket, and can be closed and opened again: a Docker
 * engine that disappears (the socket file is gone, open connections are cut, as when dockerd stops) and comes back.
 * A worker given `DOCKER_HOST=<host>` talks to Docker only through it.
 */
export interface DockerProxy {
  /** `unix://…`, for DOCKER_HOST. */
  host: string;
  readonly isOpen: boolean;
  /** Starts accepting connections (again). */
  open(): Promise<void>;
  /** Cuts every open connection and removes the socket: new connections fail with ENOENT. */
  close(): Promise<void>;
  /** Closes for `ms`, then opens again. */
  outage(ms: number): Promise<void>;
  /** Closes for good and removes its directory. */
  stop(): Promise<void>;
}

export async function startDockerProxy(options: { open?: boolean; target?: string } = {}): Promise<DockerProxy> {
  const target = options.target ?? dockerSocketPath();
  const dir = await mkdtemp(join(tmpdir(), 'autolab-docker-proxy-'));
  const path = join(dir, 'docker.sock');
  const connections = new Set<Socket>();
  let server: Server | null = null;

  const accept = (client: Socket) => {
    // Half-open allowed both ways: a client that ends its request (a copy into a container through exec stdin) still
    // reads the answer.
    const upstream = createConnection({ path: target, allowHalfOpen: true });
    connections.add(client);
    connections.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      connections.delete(client);
      connections.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const proxy: DockerProxy = {
    host: `unix://${path}`,
    get isOpen() {
      return server !== null;
    },
    async open() {
      if (server) return;
      const listening = createServer({ allowHalfOpen: true }, accept);
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(path, () => resolve());
      });
      server = listening;
    },
    async close() {
      const closing = server;
      server = null;
      if (!closing) return;
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      connections.clear();
      await closed;
      await rm(path, { force: true });
    },
    async outage(ms: number) {
      await proxy.close();
      await new Promise((r) => setTimeout(r, ms));
      await proxy.open();
    },
    async stop() {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.open !== false) await proxy.open();
  return proxy;
}

function dockerSocketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  if (!host.startsWith('unix://'))
    throw new Error(`the Docker proxy forwards to a unix socket; DOCKER_HOST is ${host}`);
  return host.slice('unix://'.length);
}
