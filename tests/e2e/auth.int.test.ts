import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadApiConfig, startApi } from '@autolab/api';
import type { ApiKeyList, CreatedApiKey, RunList, RunRecord } from '@autolab/contracts';
import { LocalArtifactStore, RedisKeys, RunStore } from '@autolab/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, submitRun } from '../stack.js';

/** API keys, tenants and what each key may see; the tests talk HTTP to a real API on a real Redis. */
type ErrorBody = { error: { code: string; message: string; details?: unknown } };

let stack: Stack;

async function createKey(s: Stack, body: Record<string, unknown>): Promise<CreatedApiKey> {
  const res = await api<CreatedApiKey>(s, '/v1/admin/keys', {
    method: 'POST',
    body: JSON.stringify(body),
    key: s.adminKey,
  });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// One stack for the authentication and queue-dashboard tests; the other groups start their own.
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  await stack?.close();
});

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate on every /v1 route without a key, or with a bad one', async () => {
    const run = await submitRun(stack, { goal: 'A run that anonymous callers must not see.' });
    const routes: [string, string][] = [
      ['GET', '/v1/runs'],
      ['POST', '/v1/runs'],
      ['GET', `/v1/runs/${run.id}`],
      ['GET', `/v1/runs/${run.id}/events`],
      ['GET', `/v1/runs/${run.id}/artifacts`],
      ['GET', `/v1/runs/${run.id}/artifacts/plan.json`],
      ['GET', `/v1/runs/${run.id}/archive`],
      ['POST', `/v1/runs/${run.id}/cancel`],
      ['POST', `/v1/runs/${run.id}/hints`],
      ['GET', `/v1/runs/${run.id}/hints`],
      ['POST', `/v1/runs/${run.id}/rerun`],
      ['GET', '/v1/admin/keys'],
      ['GET', '/v1/no-such-route'],
    ];
    const badHeaders: (Record<string, string> | null)[] = [
      null,
      { authorization: 'Bearer nope' },
      { authorization: `Bearer alk_${'x'.repeat(32)}` },
      { authorization: `Basic ${Buffer.from(`u:${stack.apiKey}`).toString('base64')}` },
      { authorization: stack.apiKey },
      { authorization: 'Bearer' },
    ];
    for (const headers of badHeaders) {
      for (const [method, path] of routes) {
        const res = await api<ErrorBody>(stack, path, {
          method,
          key: null,
          headers: headers ?? {},
          ...(method === 'POST' ? { body: '{}' } : {}),
        });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    // The run was not touched by any of that.
    expect((await api<RunRecord>(stack, `/v1/runs/${run.id}`)).body.status).toBe('queued');
  });

  it('keeps health, the API description and its UI public', async () => {
    for (const path of ['/healthz', '/openapi.json', '/docs', '/docs/json', '/']) {
      const res = await api(stack, path, { key: null, redirect: 'manual' });
      expect(res.status, path).not.toBe(401);
      expect(res.status, path).toBeLessThan(500 + (path === '/healthz' ? 4 : 0));
    }
    const doc = await api<{
      components: { securitySchemes: Record<string, unknown> };
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    }>(stack, '/openapi.json', { key: null });
    expect(doc.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.body.paths['/v1/runs']!.post!.security).toEqual([{ bearerAuth: ['runs:write'] }]);
    expect(doc.body.paths['/v1/runs']!.get!.security).toEqual([{ bearerAuth: ['runs:read'] }]);
    expect(doc.body.paths['/v1/admin/keys']!.get!.security).toEqual([{ bearerAuth: ['admin'] }]);
    expect(doc.body.paths['/healthz']!.get!.security).toEqual([]);
    expect(Object.keys(doc.body.paths).some((p) => p.startsWith('/admin/queues'))).toBe(false);
  });

  it('creates keys that are shown once, stored only as hashes, listed without secrets, and revoked at once', async () => {
    const created = await createKey(stack, { tenant: 'acme', name: 'ci pipeline' });
    expect(created).toEqual({
      id: expect.stringMatching(/^key_[0-9a-z]{26}$/),
      key: expect.stringMatching(/^alk_[0-9A-Za-z]{32}$/),
      tenant: 'acme',
      name: 'ci pipeline',
      admin: false,
      scopes: ['runs:read', 'runs:write'],
      createdAt: expect.any(String),
      expiresAt: null,
    });

    // Redis holds the SHA-256 of the key, never the key.
    const keys = new RedisKeys(stack.prefix);
    const sha = createHash('sha256').update(created.key).digest('hex');
    expect(await stack.redis.get(keys.apiKeyByHash(sha))).toBe(created.id);
    let cursor = '0';
    do {
      const [next, found] = await stack.redis.scan(cursor, 'MATCH', `${stack.prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const k of found) {
        expect(k).not.toContain(created.key);
        const type = await stack.redis.type(k);
        const dump =
          type === 'hash'
            ? JSON.stringify(await stack.redis.hgetall(k))
            : type === 'string'
              ? ((await stack.redis.get(k)) ?? '')
              : '';
        expect(dump, k).not.toContain(created.key);
      }
    } while (cursor !== '0');

    const list = await api<ApiKeyList>(stack, '/v1/admin/keys', { key: stack.adminKey });
    expect(list.status).toBe(200);
    const listed = list.body.keys.find((k) => k.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      tenant: 'acme',
      name: 'ci pipeline',
      admin: false,
      scopes: ['runs:read', 'runs:write'],
      createdAt: created.createdAt,
      expiresAt: null,
      revokedAt: null,
    });
    expect(JSON.stringify(list.body)).not.toContain(created.key);

    // The key works, until it is revoked: then the very next request is a 401.
    expect((await api<RunList>(stack, '/v1/runs', { key: created.key })).status).toBe(200);
    const revoked = await api(stack, `/v1/admin/keys/${created.id}`, { method: 'DELETE', key: stack.adminKey });
    expect(revoked.status).toBe(204);
    const after = await api<ErrorBody>(stack, '/v1/runs', { key: created.key });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    const relisted = await api<ApiKeyList>(stack, '/v1/admin/keys', { key: stack.adminKey });
    expect(relisted.body.keys.find((k) => k.id === created.id)?.revokedAt).toEqual(expect.any(String));
    // Revoking again is fine; an unknown id is a 404.
    expect((await api(stack, `/v1/admin/keys/${created.id}`, { method: 'DELETE', key: stack.adminKey })).status).toBe(
      204,
    );
    const unknown = await api<ErrorBody>(stack, '/v1/admin/keys/key_00000000000000000000000000', {
      method: 'DELETE',
      key: stack.adminKey,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('key_not_found');
  });

  it('lets only admin keys manage keys, and validates the request', async () => {
    for (const [method, path] of [
      ['GET', '/v1/admin/keys'],
      ['POST', '/v1/admin/keys'],
      ['DELETE', '/v1/admin/keys/key_00000000000000000000000000'],
    ] as const) {
      const res = await api<ErrorBody>(stack, path, {
        method,
        ...(method === 'POST' ? { body: JSON.stringify({ tenant: 'evil', admin: true }) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    for (const body of [{ tenant: 'Bad Tenant' }, { tenant: '' }, {}, { tenant: 'ok', colour: 'red' }]) {
      const res = await api<ErrorBody>(stack, '/v1/admin/keys', {
        method: 'POST',
        body: JSON.stringify(body),
        key: stack.adminKey,
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    // A key created as admin can manage keys too.
    const admin = await createKey(stack, { tenant: 'ops', admin: true });
    expect((await api(stack, '/v1/admin/keys', { key: admin.key })).status).toBe(200);
  });
});

describe('tenant isolation', () => {
  let isolated: Stack;
  let other: CreatedApiKey;
  let run: RunRecord;

  beforeAll(async () => {
    isolated = await startStack({ worker: false });
    other = await createKey(isolated, { tenant: 'other' });
    run = await submitRun(isolated, { goal: 'A run of tenant test that tenant other must not see.' });
    const artifacts = new LocalArtifactStore(join(isolated.dataDir, 'artifacts'));
    await artifacts.put(run.id, 'paper/paper.tex', '\\documentclass{article}');
  });
  afterAll(async () => {
    await isolated?.close();
  });

  const routes = (id: string) =>
    [
      ['GET', `/v1/runs/${id}`, undefined],
      ['GET', `/v1/runs/${id}/events?after=0`, { accept: 'application/json' }],
      ['GET', `/v1/runs/${id}/events`, { accept: 'text/event-stream' }],
      ['GET', `/v1/runs/${id}/artifacts`, undefined],
      ['GET', `/v1/runs/${id}/artifacts/paper/paper.tex`, undefined],
      ['GET', `/v1/runs/${id}/archive`, undefined],
      ['GET', `/v1/runs/${id}/hints`, undefined],
      ['POST', `/v1/runs/${id}/hints`, { text: 'Try something else.' }],
      ['POST', `/v1/runs/${id}/rerun`, { fromStage: 'writeup' }],
      ['POST', `/v1/runs/${id}/cancel`, undefined],
    ] as const;

  it('answers 404 run_not_found to another tenant on every run route', async () => {
    for (const [method, path, extra] of routes(run.id)) {
      const isBody = method === 'POST' && extra !== undefined;
      const res = await api<ErrorBody>(isolated, path, {
        method,
        key: other.key,
        ...(isBody ? { body: JSON.stringify(extra) } : {}),
        ...(!isBody && extra ? { headers: extra as Record<string, string> } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code, `${method} ${path}`).toBe('run_not_found');
      // Same answer as for a run that does not exist at all.
      expect(res.body.error.message).toContain(run.id);
    }
    const sse = await readSse(isolated, run.id, { key: other.key, timeoutMs: 5000 });
    expect(sse.status).toBe(404);
    expect(sse.events).toEqual([]);
    // Nothing of that reached the run.
    const mine = await api<RunRecord>(isolated, `/v1/runs/${run.id}`);
    expect(mine.body.status).toBe('queued');
    expect((await api<{ hints: unknown[] }>(isolated, `/v1/runs/${run.id}/hints`)).body.hints).toEqual([]);
  });

  it('serves the run to its own tenant and to an admin key', async () => {
    for (const key of [isolated.apiKey, isolated.adminKey]) {
      for (const [method, path, extra] of routes(run.id)) {
        if (method === 'POST') continue; // changes; covered by the hints and rerun tests
        if (path.endsWith('/events')) continue; // the live stream never ends for a queued run; read below
        const res = await api(isolated, path, { key, ...(extra ? { headers: extra as Record<string, string> } : {}) });
        expect(res.status, `${path} as ${key === isolated.adminKey ? 'admin' : 'tenant'}`).toBe(200);
      }
      const sse = await readSse(isolated, run.id, { key, stopWhen: (e) => e.type === 'run.queued', timeoutMs: 5000 });
      expect(sse.status).toBe(200);
      expect(sse.events.map((e) => e.type)).toEqual(['run.queued']);
    }
    const tex = await api<string>(isolated, `/v1/runs/${run.id}/artifacts/paper/paper.tex`);
    expect(tex.body).toContain('documentclass');
    // The record's links lead somewhere: the API ones to JSON, the dashboard one to the page that shows the run.
    const record = (await api<RunRecord>(isolated, `/v1/runs/${run.id}`)).body;
    for (const link of [record.links.self, record.links.artifacts])
      expect((await api(isolated, link)).status).toBe(200);
    const page = await fetch(`${isolated.apiUrl}${record.links.dashboard}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('lists only the caller’s tenant’s runs; an admin lists all', async () => {
    const theirs = await submitRun(
      isolated,
      { goal: 'A run of tenant other, invisible to tenant test.' },
      { key: other.key },
    );
    expect(theirs.tenant).toBe('other');
    expect(run.tenant).toBe('test');
    const listOf = async (key: string) =>
      (await api<RunList>(isolated, '/v1/runs?limit=100', { key })).body.runs.map((r) => r.id);
    expect(await listOf(isolated.apiKey)).toContain(run.id);
    expect(await listOf(isolated.apiKey)).not.toContain(theirs.id);
    expect(await listOf(other.key)).toEqual([theirs.id]);
    expect(await listOf(isolated.adminKey)).toEqual(expect.arrayContaining([run.id, theirs.id]));
    // And tenant test cannot reach the other tenant's run either.
    expect((await api(isolated, `/v1/runs/${theirs.id}`)).status).toBe(404);
  });

  it('scopes Idempotency-Keys per tenant', async () => {
    const body = JSON.stringify({ goal: 'The same request sent by two tenants with one key.' });
    const headers = { 'idempotency-key': 'shared-key-1' };
    const a1 = await api<RunRecord>(isolated, '/v1/runs', { method: 'POST', body, headers });
    const b1 = await api<RunRecord>(isolated, '/v1/runs', { method: 'POST', body, headers, key: other.key });
    const a2 = await api<RunRecord>(isolated, '/v1/runs', { method: 'POST', body, headers });
    expect([a1.status, b1.status, a2.status]).toEqual([202, 202, 202]);
    expect(b1.body.id).not.toBe(a1.body.id);
    expect(b1.body.tenant).toBe('other');
    expect(a2.body.id).toBe(a1.body.id);
    // A different body under the same key conflicts only within the tenant that used it.
    const conflict = await api<ErrorBody>(isolated, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ goal: 'Another goal with a key tenant other already used.' }),
      headers,
      key: other.key,
    });
    expect(conflict.status).toBe(409);
    expect((conflict.body.error.details as { runId: string }).runId).toBe(b1.body.id);
  });
});

describe('limits', () => {
  let limited: Stack;
  let capped: Stack;

  beforeAll(async () => {
    limited = await startStack({ worker: false, apiEnv: { AUTOLAB_RATE_LIMIT_PER_MINUTE: '5' } });
    capped = await startStack({ worker: false, apiEnv: { AUTOLAB_TENANT_MAX_ACTIVE_RUNS: '2' } });
  });
  afterAll(async () => {
    await limited?.close();
    await capped?.close();
  });

  it('limits requests per key with 429 rate_limited and Retry-After, shared by every API process', async () => {
    const key = (await createKey(limited, { tenant: 'busy' })).key;
    // A second API process on the same Redis and prefix: the budget is per key, not per process.
    const second = await startApi(
      loadApiConfig({
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        AUTOLAB_REDIS_PREFIX: limited.prefix,
        AUTOLAB_DATA_DIR: limited.dataDir,
        AUTOLAB_ADMIN_KEY: limited.adminKey,
        AUTOLAB_RATE_LIMIT_PER_MINUTE: '5',
        LOG_LEVEL: 'warn',
      }),
    );
    try {
      const get = (url: string) => fetch(`${url}/v1/runs`, { headers: { authorization: `Bearer ${key}` } });
      const statuses: number[] = [];
      for (const url of [limited.apiUrl, limited.apiUrl, limited.apiUrl, second.url, second.url]) {
        statuses.push((await get(url)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      for (const url of [limited.apiUrl, second.url]) {
        const res = await get(url);
        expect(res.status).toBe(429);
        expect(((await res.json()) as ErrorBody).error.code).toBe('rate_limited');
        const retryAfter = Number(res.headers.get('retry-after'));
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
      }
      // Another key has its own budget.
      expect((await api(limited, '/v1/runs')).status).toBe(200);
      // Public routes are not counted.
      expect((await fetch(`${limited.apiUrl}/openapi.json`)).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('limits requests without a valid key per client address, without touching valid keys', async () => {
    const guess = () => fetch(`${limited.apiUrl}/v1/runs`, { headers: { authorization: 'Bearer alk_guess' } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await guess()).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const refused = await guess();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as ErrorBody).error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // No key at all counts against the same budget; a valid key has its own.
    expect((await fetch(`${limited.apiUrl}/v1/runs`)).status).toBe(429);
    const key = (await createKey(limited, { tenant: 'unaffected' })).key;
    expect((await api(limited, '/v1/runs', { key })).status).toBe(200);
  });

  it('counts every spelling of a path that reaches a route (/v1/%72uns as /v1/runs) and paths that reach none', async () => {
    const key = (await createKey(limited, { tenant: 'spelling' })).key;
    const get = (path: string, withKey = true) =>
      fetch(`${limited.apiUrl}${path}`, { headers: withKey ? { authorization: `Bearer ${key}` } : {} });
    const answers: Response[] = [];
    for (const path of ['/v1/runs', '/v1/%72uns', '/v1/%72%75%6E%73', '/v1/no-such-route', '/v1/%72uns'])
      answers.push(await get(path));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 404, 200]);
    // The plugin's headers on every counted answer: the limit and what is left of it.
    expect(answers.map((r) => r.headers.get('x-ratelimit-limit'))).toEqual(['5', '5', '5', '5', '5']);
    expect(answers.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0']);
    // A run read (started early, while the limit is counted) is not answered past the limit either.
    const run = await submitRun(limited, { goal: 'A run an exhausted key must not get past its limit.' });
    for (const path of ['/v1/%72uns', '/v1/runs', '/v1/no-such-route', `/v1/runs/${run.id}`]) {
      const res = await get(path);
      expect(res.status).toBe(429);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe('rate_limited');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(body.error.details).toEqual({ limitPerMinute: 5, retryAfterSeconds: retryAfter });
      expect(retryAfter).toBeGreaterThanOrEqual(1);
    }
    // Without a key, the address's budget (spent by the test above) covers the encoded spelling and unknown paths.
    expect((await get('/v1/%72uns', false)).status).toBe(429);
    expect((await get('/v1/no-such-route', false)).status).toBe(429);
  });

  it('caps live runs per tenant with 429 too_many_active_runs, counted atomically', async () => {
    const key = (await createKey(capped, { tenant: 'capped' })).key;
    const post = (goal: string) =>
      api<RunRecord & ErrorBody>(capped, '/v1/runs', { method: 'POST', body: JSON.stringify({ goal }), key });
    // Five submits at once: exactly two get through.
    const burst = await Promise.all([1, 2, 3, 4, 5].map((i) => post(`Concurrent capped run number ${i}.`)));
    const accepted = burst.filter((r) => r.status === 202);
    const refused = burst.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(2);
    expect(refused).toHaveLength(3);
    expect(refused[0]!.body.error.code).toBe('too_many_active_runs');
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const runs = new RunStore(capped.redis, new RedisKeys(capped.prefix));
    expect(await runs.activeRunCount('capped')).toBe(2);

    // Another tenant is not affected.
    expect((await submitRun(capped, { goal: 'A run of another tenant while capped is full.' })).status).toBe('queued');

    // A cancelled run frees its slot at once; so does a run that finishes.
    const [first, second] = accepted.map((r) => r.body);
    expect((await api(capped, `/v1/runs/${first!.id}/cancel`, { method: 'POST', key })).status).toBe(202);
    expect(await runs.activeRunCount('capped')).toBe(1);
    const third = await post('A run that fits after a cancel.');
    expect(third.status).toBe(202);
    expect((await post('One too many again.')).status).toBe(429);
    await runs.finish(second!.id, 'succeeded', null, 'Finished by the test.');
    expect(await runs.activeRunCount('capped')).toBe(1);

    // A rerun makes a run live again, so it counts (and is refused when the tenant is full).
    const rerun = await api<RunRecord>(capped, `/v1/runs/${second!.id}/rerun`, {
      method: 'POST',
      body: JSON.stringify({ fromStage: 'writeup' }),
      key,
    });
    expect(rerun.status).toBe(202);
    expect(await runs.activeRunCount('capped')).toBe(2);
    const full = await api<ErrorBody>(capped, `/v1/runs/${first!.id}/rerun`, {
      method: 'POST',
      body: JSON.stringify({ fromStage: 'writeup' }),
      key,
    });
    expect(full.status).toBe(429);
    expect(full.body.error.code).toBe('too_many_active_runs');
    expect(full.headers.get('retry-after')).not.toBeNull();
    expect((await api<RunRecord>(capped, `/v1/runs/${first!.id}`, { key })).body.status).toBe('cancelled');
  });
});

describe('start-up safety', () => {
  it('refuses to start with authentication off on a non-loopback address', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      await expect(
        startApi(loadApiConfig({ ...process.env, HOST: host, PORT: '0', AUTOLAB_AUTH: 'off' })),
      ).rejects.toThrow(/refusing to start/);
    }
  });

  it('with authentication off on loopback, every caller is tenant default with admin rights', async () => {
    const open = await startStack({ worker: false, apiEnv: { AUTOLAB_AUTH: 'off' } });
    try {
      const run = await submitRun(open, { goal: 'A run submitted without any API key.' }, { key: null });
      expect(run.tenant).toBe('default');
      expect((await api(open, '/v1/admin/keys', { key: null })).status).toBe(200);
      expect((await api(open, `/v1/runs/${run.id}`, { key: null })).status).toBe(200);
      // Rate limits are per key; without keys there are none to count.
      for (let i = 0; i < 5; i++) expect((await api(open, '/v1/runs', { key: null })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('queue dashboard (bull-board)', () => {
  it('is for admins only: 401 without credentials, 404 for a tenant key, the UI for an admin', async () => {
    const anonymous = await api<ErrorBody>(stack, '/admin/queues', { key: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const tenant = await api<ErrorBody>(stack, '/admin/queues', {});
    expect(tenant.status).toBe(404);
    expect(tenant.body.error.code).toBe('route_not_found');
    const tenantApi = await api<ErrorBody>(stack, '/admin/queues/api/queues', {});
    expect(tenantApi.status).toBe(404);

    const admin = await api<string>(stack, '/admin/queues', { key: stack.adminKey });
    expect(admin.status).toBe(200);
    expect(admin.headers.get('content-type')).toContain('text/html');
    expect(admin.body).toContain('Autolab queue');
    const queues = await api<{ queues: { name: string }[] }>(stack, '/admin/queues/api/queues', {
      key: stack.adminKey,
    });
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((q) => q.name)).toContain('runs');
  });

  it('opens a browser session from ?key= with an HttpOnly SameSite=Strict cookie that dies with its key', async () => {
    const s = stack;
    const bad = await api<ErrorBody>(s, '/admin/queues/login?key=nope', { key: null, redirect: 'manual' });
    expect(bad.status).toBe(401);
    const notAdmin = await api(s, `/admin/queues/login?key=${s.apiKey}`, { key: null, redirect: 'manual' });
    expect(notAdmin.status).toBe(404);
    expect(notAdmin.headers.get('set-cookie')).toBeNull();

    const adminKey = await createKey(s, { tenant: 'ops', admin: true });
    const login = await api(s, `/admin/queues/login?key=${adminKey.key}`, { key: null, redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/admin/queues');
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^autolab_admin=[0-9A-Za-z]{40};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/admin');
    expect(setCookie).not.toContain(adminKey.key);
    const cookie = setCookie.split(';')[0]!;

    const page = await api<string>(s, '/admin/queues', { key: null, headers: { cookie } });
    expect(page.status).toBe(200);
    // The cookie opens the dashboard only, not the API.
    expect((await api(s, '/v1/runs', { key: null, headers: { cookie } })).status).toBe(401);

    // Revoking the key ends its sessions.
    await api(s, `/v1/admin/keys/${adminKey.id}`, { method: 'DELETE', key: s.adminKey });
    expect((await api(s, '/admin/queues', { key: null, headers: { cookie } })).status).toBe(401);

    // Logging out ends a session too.
    const again = await api(s, `/admin/queues/login?key=${s.adminKey}`, { key: null, redirect: 'manual' });
    const cookie2 = (again.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect((await api(s, '/admin/queues', { key: null, headers: { cookie: cookie2 } })).status).toBe(200);
    const out = await api(s, '/admin/queues/logout', { key: null, headers: { cookie: cookie2 } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await api(s, '/admin/queues', { key: null, headers: { cookie: cookie2 } })).status).toBe(401);
  });
});
