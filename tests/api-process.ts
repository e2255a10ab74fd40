import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix, freePort } from './test-resources.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ApiProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  adminKey: string;
  prefix: string;
  /** AUTOLAB_DATA_DIR of the process (artifacts under `<dataDir>/artifacts/<runId>/`). */
  dataDir: string;
  /** Everything the process wrote to stdout and stderr. */
  logFile: string;
  child: ChildProcess;
  /** True while the process has not exited. */
  alive(): boolean;
  /** Creates an API key of `tenant` with the admin key. */
  createKey(tenant: string): Promise<string>;
  /** SIGTERM, then SIGKILL after 10 s; removes the Redis keys and the data directory. */
  stop(): Promise<void>;
}

/**
 * The API as `npm start` runs it: a separate Node process (`tsx apps/api/src/main.ts`) on a real port, with its own
 * Redis key prefix and data directory. For tests where the process itself is what is tested (it must not exit, its
 * socket-level behaviour), which an in-process stack cannot show.
 */
export async function startApiProcess(
  options: {
    env?: Record<string, string>;
    redisUrl?: string;
    waitMs?: number;
    /** Start on the data directory, Redis prefix and admin key of an earlier process (e.g. after killing it). */
    after?: Pick<ApiProcess, 'dataDir' | 'prefix' | 'adminKey'>;
  } = {},
): Promise<ApiProcess> {
  const dataDir = options.after?.dataDir ?? (await mkdtemp(join(tmpdir(), 'autolab-api-process-')));
  const prefix = options.after?.prefix ?? `autolab-test-${randomBytes(4).toString('hex')}`;
  const adminKey = options.after?.adminKey ?? `test-admin-${randomBytes(16).toString('hex')}`;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dataDir, `api-${port}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: redisUrl,
      AUTOLAB_REDIS_PREFIX: prefix,
      AUTOLAB_DATA_DIR: dataDir,
      AUTOLAB_ADMIN_KEY: adminKey,
      AUTOLAB_RATE_LIMIT_PER_MINUTE: '100000',
      AUTOLAB_TENANT_MAX_ACTIVE_RUNS: '1000',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(options.env ?? {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const alive = () => child.exitCode === null && child.signalCode === null;

  // Up = it answers HTTP at all (/healthz is 503 without a worker, which is still an answer).
  const end = Date.now() + (options.waitMs ?? 60_000);
  for (;;) {
    const up = await fetch(`${url}/healthz`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (!alive() || Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`the API process did not come up (exit ${child.exitCode ?? child.signalCode}); log: ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    port,
    adminKey,
    prefix,
    dataDir,
    logFile,
    child,
    alive,
    async createKey(tenant) {
      const res = await fetch(`${url}/v1/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenant, name: 'api-process test' }),
      });
      if (res.status !== 201) throw new Error(`could not create a key: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { key: string }).key;
    },
    async stop() {
      if (alive()) {
        child.kill('SIGTERM');
        await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 10_000))]);
        if (alive()) child.kill('SIGKILL');
      }
      log.end();
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        await deleteKeysWithPrefix(redis, prefix);
      } finally {
        redis.disconnect();
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
