import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ScriptedServer, startScriptedServer } from '@autolab/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIO_DIR } from '../stack.js';
import { deleteKeysWithPrefix, freePort } from '../test-resources.js';

/**
 * Secrets never reach a log file. The API and a worker run as real processes (as `npm start` runs them) at log level
 * debug, writing to files; the test sends keys every way a client might — headers, cookies, the queue dashboard's
 * login in every spelling, keys in query strings of bad URLs — and drives a run whose model fails a few times (so the
 * retry paths log), then searches every file for every secret.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN_KEY = `adm_${randomBytes(24).toString('base64url')}`;
const OPENAI_KEY = `sk-log-check-${randomBytes(16).toString('hex')}`;
const S2_KEY = `s2-log-check-${randomBytes(16).toString('hex')}`;

let dir: string;
let scripted: ScriptedServer;
let base: string;
const prefix = `autolab-test-logs-${randomBytes(4).toString('hex')}`;
const processes: ChildProcess[] = [];
const secrets: string[] = [ADMIN_KEY, OPENAI_KEY, S2_KEY];

function start(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const log = createWriteStream(join(dir, `${name}.log`));
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  processes.push(child);
  return child;
}

/** A request with the path sent exactly as written. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const url = new URL(base);
  return new Promise<{ status: number; text: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function json<T>(
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autolab-logs-'));
  scripted = await startScriptedServer({ scenarioDirs: [SCENARIO_DIR] });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const common = { AUTOLAB_REDIS_PREFIX: prefix, AUTOLAB_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'debug' };
  start('api', 'apps/api/src/main.ts', {
    ...common,
    HOST: '127.0.0.1',
    PORT: String(port),
    AUTOLAB_ADMIN_KEY: ADMIN_KEY,
    AUTOLAB_RATE_LIMIT_PER_MINUTE: '100000',
  });
  start('worker', 'apps/worker/src/main.ts', {
    ...common,
    AUTOLAB_WORKER_ID: `log-check-${randomBytes(3).toString('hex')}`,
    OPENAI_BASE_URL: scripted.baseUrl,
    OPENAI_API_KEY: OPENAI_KEY,
    SEMANTIC_SCHOLAR_API_KEY: S2_KEY,
    // Unreachable on purpose: the failing literature requests are logged too.
    AUTOLAB_SEMANTIC_SCHOLAR_URL: 'http://127.0.0.1:9',
    AUTOLAB_OPENALEX_URL: 'http://127.0.0.1:9',
    AUTOLAB_LLM_MAX_ATTEMPTS: '3',
  });
  const end = Date.now() + 60_000;
  for (;;) {
    const up = await fetch(`${base}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (Date.now() > end) throw new Error(`the API or the worker did not come up; logs in ${dir}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}, 90_000);

afterAll(async () => {
  for (const child of processes) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 10_000))]);
      child.kill('SIGKILL');
    }
  }
  await scripted?.close();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

describe('logs', () => {
  it('never contain a key, however clients send them, through a whole run with model retries', async () => {
    const tenant = await json<{ key: string }>('POST', '/v1/admin/keys', ADMIN_KEY, { tenant: 'logs' });
    const admin = await json<{ key: string }>('POST', '/v1/admin/keys', ADMIN_KEY, { tenant: 'ops', admin: true });
    expect([tenant.status, admin.status]).toEqual([201, 201]);
    secrets.push(tenant.body.key, admin.body.key);

    // The queue dashboard's login in every spelling; each opens a session whose token is a secret too.
    for (const key of [ADMIN_KEY, admin.body.key]) {
      for (const query of ['key', '%6bey', '%6B%65%79', 'KEY', 'key%5B%5D', 'k%65y']) {
        const res = await raw('GET', `/admin/queues/login?${query}=${encodeURIComponent(key)}`);
        const cookie = String(res.headers['set-cookie'] ?? '');
        const token = /autolab_admin=([0-9A-Za-z]{40})/.exec(cookie)?.[1];
        if (token) secrets.push(token);
      }
    }
    // Keys where they do not belong: query strings, bad URLs, malformed headers, cookies.
    for (const key of [ADMIN_KEY, tenant.body.key]) {
      await raw('GET', `/v1/runs?token=${key}`, { authorization: `Bearer ${key}` });
      await raw('GET', `/v1/runs/%C0%AE?key=${key}`);
      await raw('GET', `/v1/runs/${'x'.repeat(150)}?api_key=${key}`);
      await raw('GET', '/v1/runs', { authorization: `Basic ${Buffer.from(`u:${key}`).toString('base64')}` });
      await raw('GET', '/v1/runs', { authorization: key });
      await raw('GET', '/admin/queues', { cookie: `autolab_admin=${key}` });
      await raw(
        'POST',
        '/v1/runs',
        { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        `{"goal": "${key}`,
      );
    }

    // A run whose model misbehaves (invalid replies, HTTP 500s the client retries) with the tenant key.
    const run = await json<{ id: string }>('POST', '/v1/runs', tenant.body.key, {
      goal: 'How does standardizing the features affect the convergence of logistic regression trained by gradient descent?',
      model: 'malformed',
      maxIterations: 4,
      seeds: 0,
      search: { numDrafts: 1 },
      review: { reviewers: 1 },
    });
    expect(run.status).toBe(202);
    const end = Date.now() + 300_000;
    let status = 'queued';
    while (!['succeeded', 'failed', 'cancelled'].includes(status)) {
      if (Date.now() > end) throw new Error(`run still ${status}`);
      await new Promise((r) => setTimeout(r, 1000));
      status = (await json<{ status: string }>('GET', `/v1/runs/${run.body.id}`, tenant.body.key)).body.status;
    }
    expect(status).toBe('succeeded');
    // The worker really talked to the model (with its key), so the worker log had something to leak.
    expect(scripted.callsFor(run.body.id).length).toBeGreaterThan(5);

    for (const child of processes) child.kill('SIGTERM');
    await Promise.all(processes.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.log'));
    expect(files.sort()).toEqual(['api.log', 'worker.log']);
    for (const file of files) {
      const text = await readFile(join(dir, file), 'utf8');
      expect(text.length, `${file} logged nothing`).toBeGreaterThan(1000);
      for (const secret of secrets) {
        for (const form of [secret, encodeURIComponent(secret), Buffer.from(`u:${secret}`).toString('base64')]) {
          expect(text.includes(form), `${file} contains a secret (${secret.slice(0, 6)}…)`).toBe(false);
        }
      }
    }
    // Requests were logged (with their redacted URLs), so the absence above means something.
    const api = await readFile(join(dir, 'api.log'), 'utf8');
    expect(api).toContain('/admin/queues/login?');
    expect(api).toContain('[redacted]');
  }, 420_000);
});
