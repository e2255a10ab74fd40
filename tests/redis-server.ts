import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './test-resources.js';

/**
 * A real `redis-server` process of its own, for tests that need a second Redis server or one they may kill: an
 * outage drill kills it with SIGKILL mid-run and starts it again on the same port and directory.
 */
export interface RedisServer {
  url: string;
  port: number;
  /** Its working directory (the append-only file lives here with `persist`). */
  dir: string;
  /** SIGTERM, then removes its directory (unless the caller gave it). */
  stop(): Promise<void>;
  /** SIGKILL: the server vanishes as in a crash; its clients see their connections reset. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (with `persist`, with the data it had acknowledged). */
  restart(): Promise<void>;
  /** SIGSTOP: the server hangs with its connections open, as a stuck or partitioned server does. */
  freeze(): void;
  /** SIGCONT: it carries on with whatever it was sent meanwhile. */
  thaw(): void;
}

export interface RedisServerOptions {
  /** Default: a free port. */
  port?: number;
  /** Default: a new temporary directory, removed by stop(). */
  dir?: string;
  /**
   * Append-only file, fsync'd on every write: a SIGKILL loses nothing the server acknowledged, so data survives
   * kill() + restart(). Default false (no persistence at all).
   */
  persist?: boolean;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'autolab-redis-')));
  const url = `redis://127.0.0.1:${port}`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  args.push(...(options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let child: ChildProcess | null = null;
  const running = () => !!child && child.exitCode === null && child.signalCode === null;

  const launch = async () => {
    const started = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    let stderr = '';
    started.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const end = Date.now() + 10_000;
    for (;;) {
      if (await answersPing(url)) return;
      if (started.exitCode !== null || Date.now() > end) {
        started.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not start: ${stderr.trim() || 'no output'}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const signal = async (name: NodeJS.Signals) => {
    if (!running()) return;
    const exited = once(child!, 'exit');
    child!.kill(name);
    await exited;
  };

  try {
    await launch();
  } catch (err) {
    if (!options.dir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dir,
    async stop() {
      if (running()) child!.kill('SIGCONT');
      await signal('SIGTERM');
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
    kill: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGKILL');
      await launch();
    },
    freeze: () => {
      if (running()) child!.kill('SIGSTOP');
    },
    thaw: () => {
      if (running()) child!.kill('SIGCONT');
    },
  };
}

/** True when a server at `url` answers PING (also false while it is still loading its data). */
async function answersPing(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
