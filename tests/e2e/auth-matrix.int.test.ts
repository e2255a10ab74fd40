import { request as httpRequest } from 'node:http';
import type { CreatedApiKey, RunRecord } from '@autolab/contracts';
import { LessonStore, RedisKeys, RUN_QUEUE_NAME } from '@autolab/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Stack, startStack, submitRun } from '../stack.js';

/**
 * The attacker's view of authentication: every route of the route table (the API's and the mounts': queue
 * dashboard, docs, dashboard pages), every spelling of its path a router might accept, every kind of caller without
 * the right. Requests go over raw HTTP so that paths reach the server exactly as written (no client normalizes dot
 * segments or encodings away).
 */
type ErrorBody = { error: { code: string; message: string; details?: unknown } };
type Access = { auth: 'public' } | { auth: 'tenant'; scope: string } | { auth: 'admin'; browserSession?: boolean };
type RouteRow = { method: string; url: string; access: Access | null };

let stack: Stack;
let table: RouteRow[];
let runId: string;
/** A lesson of tenant `test`: what `:id` means in the lesson routes. */
let lessonId: string;
const keys: Record<string, string> = {};

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request with the path sent byte for byte as given. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  const url = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { ...headers, connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.on('error', (err) => reject(new Error(`${method} ${path}: ${err.message}`)));
    req.end(body);
  });
}

/** A concrete path for a route pattern: the run for `:id`, a file for the wildcard, the queue for bull-board's. */
function concretePath(pattern: string): string {
  if (pattern.startsWith('/v1/lessons/')) return pattern.replace(/:id\b/g, lessonId);
  return pattern
    .replace(/:queueName\b/g, RUN_QUEUE_NAME)
    .replace(/:id\b/g, runId)
    .replace(/:jobId\b/g, 'job-1')
    .replace(/:[A-Za-z]+/g, 'x')
    .replace(/\*$/, 'plan.json');
}

/** Spellings of `path` that a lenient router, a proxy or a decoder might take for the same route. */
function pathVariants(path: string): string[] {
  const segments = path.split('/').slice(1);
  const out = new Set<string>([path]);
  const join = (parts: string[]) => `/${parts.join('/')}`;
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  segments.forEach((segment, i) => {
    if (!segment) return;
    const at = (s: string) => join(segments.map((x, j) => (j === i ? s : x)));
    out.add(at(hex(segment[0]!) + segment.slice(1))); // %76 for v
    out.add(at(hex(segment[0]!).toUpperCase() + segment.slice(1)));
    out.add(at(`%25${hex(segment[0]!).slice(1)}${segment.slice(1)}`)); // double-encoded: %2576
    out.add(at(segment.toUpperCase()));
    out.add(at(segment[0]!.toUpperCase() + segment.slice(1)));
    out.add(at([...segment].map(hex).join(''))); // every character encoded
  });
  out.add(path.toUpperCase());
  out.add(`/${path}`); // //v1/...
  out.add(path.replace(/\/(?=[^/]+$)/, '//')); // duplicate slash before the last segment
  out.add(`${path}/`);
  out.add(path.replace(/\/([^/]+)$/, '/./$1'));
  out.add(path.replace(/\/([^/]+)$/, '/x/../$1'));
  // An encoded slash before the last segment (for a one-segment path, one after the leading slash: a request line
  // must start with "/").
  out.add(path.includes('/', 1) ? path.replace(/\/([^/]+)$/, '%2F$1') : `/%2F${path.slice(1)}`);
  out.add(`${path};x=1`);
  out.add(`${path}?a=1`);
  out.add(`${path}#frag`);
  return [...out];
}

const PROBES_IN_FLIGHT = 16;

const bearer = (key: string | null): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});

async function createKey(body: Record<string, unknown>): Promise<CreatedApiKey> {
  const res = await api<CreatedApiKey>(stack, '/v1/admin/keys', {
    method: 'POST',
    body: JSON.stringify(body),
    key: stack.adminKey,
  });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

beforeAll(async () => {
  stack = await startStack({ worker: false });
  table = stack.api.app.routeAccessTable() as RouteRow[];
  runId = (await submitRun(stack, { goal: 'The run every probe of the auth matrix aims at.' })).id;
  const [lesson] = await new LessonStore(stack.redis, new RedisKeys(stack.prefix)).learn('test', [
    {
      kind: 'pitfall',
      text: 'The lesson every probe of the auth matrix aims at.',
      tags: [],
      evidence: [
        {
          runId,
          nodeId: 'n001',
          parentNodeId: null,
          stance: 'supports',
          metric: null,
          before: null,
          after: null,
          error: 'failed',
          results: null,
          recordedAt: new Date().toISOString(),
        },
      ],
      relation: null,
    },
  ]);
  lessonId = lesson!.id;
  keys.reader = (await createKey({ tenant: 'test', scopes: ['runs:read'] })).key;
  keys.other = (await createKey({ tenant: 'other' })).key;
  const revoked = await createKey({ tenant: 'test' });
  await api(stack, `/v1/admin/keys/${revoked.id}`, { method: 'DELETE', key: stack.adminKey });
  keys.revoked = revoked.key;
  keys.expiring = (await createKey({ tenant: 'test', expiresAt: new Date(Date.now() + 1500).toISOString() })).key;
  await new Promise((r) => setTimeout(r, 1600));
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe('the route table', () => {
  it('gives every route an access rule (a route added without one fails here and at start-up)', () => {
    expect(table.length).toBeGreaterThan(20);
    const undeclared = table.filter((r) => r.access === null).map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
  });

  it('keeps public only what holds no data: health, the API description, the dashboard page and its assets', () => {
    const publicRoutes = table.filter((r) => r.access?.auth === 'public').map((r) => r.url);
    for (const url of publicRoutes) {
      expect(url, url).toMatch(
        /^(\/healthz|\/openapi\.json|\/docs(\/.*)?|\/|\/runs|\/new|\/runs\/:id|\/compare|\/assets\/.*|\/admin\/queues\/log(in|out))$/,
      );
    }
    // The API and the queue dashboard are never public.
    for (const row of table) {
      if (row.url.startsWith('/v1/')) expect(row.access?.auth, row.url).not.toBe('public');
      if (row.url.startsWith('/admin/queues') && !/\/log(in|out)$/.test(row.url))
        expect(row.access, row.url).toEqual({ auth: 'admin', browserSession: true });
    }
  });

  it('lists every operation of the OpenAPI document, with the same rule as its security requirement', async () => {
    const doc = await api<{ paths: Record<string, Record<string, { security?: { bearerAuth?: string[] }[] }>> }>(
      stack,
      '/openapi.json',
      { key: null },
    );
    for (const [path, operations] of Object.entries(doc.body.paths)) {
      const url = path.replace(/\/artifacts\/\{path\}$/, '/artifacts/*').replace(/\{([^}]+)\}/g, ':$1');
      for (const [method, operation] of Object.entries(operations)) {
        const row = table.find((r) => r.url === url && r.method === method.toUpperCase());
        expect(row, `${method} ${path}`).toBeDefined();
        const needed = operation.security?.[0]?.bearerAuth ?? null;
        if (row!.access?.auth === 'public') expect(needed).toBeNull();
        else
          expect(needed).toEqual([row!.access?.auth === 'admin' ? 'admin' : (row!.access as { scope: string }).scope]);
      }
    }
  });
});

describe('every protected route, every spelling, every caller without the right', () => {
  it('refuses them all (401, 403 or 404 in the error shape) and changes nothing', async () => {
    const keysBefore = (await api<{ keys: unknown[] }>(stack, '/v1/admin/keys', { key: stack.adminKey })).body.keys
      .length;
    const failures: string[] = [];
    const probes: (() => Promise<void>)[] = [];
    for (const row of table) {
      if (!row.access || row.access.auth === 'public') continue;
      const callers: [string, Record<string, string>][] = [
        ['no key', {}],
        ['malformed key', { authorization: 'Bearer not-a-key' }],
        ['unknown key', bearer(`alk_${'x'.repeat(32)}`)],
        ['basic auth', { authorization: `Basic ${Buffer.from(`u:${stack.apiKey}`).toString('base64')}` }],
        ['bare key', { authorization: stack.apiKey }],
        ['revoked key', bearer(keys.revoked!)],
        ['expired key', bearer(keys.expiring!)],
        ['session cookie without a session', { cookie: `autolab_admin=${'A'.repeat(40)}` }],
      ];
      if (row.access.auth === 'admin') callers.push(['tenant key', bearer(stack.apiKey)]);
      if (row.access.auth === 'admin') callers.push(['read-only key', bearer(keys.reader!)]);
      if (row.access.auth === 'tenant' && row.access.scope === 'runs:write')
        callers.push(['read-only key', bearer(keys.reader!)]);
      const body = ['POST', 'PUT', 'PATCH'].includes(row.method) ? '{"tenant":"x","admin":true,"goal":"x"}' : undefined;
      for (const path of pathVariants(concretePath(row.url))) {
        for (const [who, headers] of callers) {
          probes.push(async () => {
            const res = await raw(
              row.method,
              path,
              body ? { ...headers, 'content-type': 'application/json' } : headers,
              body,
            );
            const what = `${row.method} ${path} with ${who} → ${res.status}`;
            if (![401, 403, 404].includes(res.status)) failures.push(what);
            else if (row.method !== 'HEAD') {
              try {
                const parsed = JSON.parse(res.text) as ErrorBody;
                if (typeof parsed.error?.code !== 'string' || typeof parsed.error?.message !== 'string')
                  failures.push(`${what}: not the error shape`);
              } catch {
                failures.push(`${what}: not JSON`);
              }
            }
          });
        }
      }
    }
    // Several probes in flight at once (the API serves them concurrently anyway); one at a time took minutes.
    for (let i = 0; i < probes.length; i += PROBES_IN_FLIGHT) {
      await Promise.all(probes.slice(i, i + PROBES_IN_FLIGHT).map((probe) => probe()));
    }
    expect(failures).toEqual([]);
    expect(probes.length).toBeGreaterThan(1000);

    // Nothing of that changed anything.
    const keysAfter = (await api<{ keys: unknown[] }>(stack, '/v1/admin/keys', { key: stack.adminKey })).body.keys;
    expect(keysAfter.length).toBe(keysBefore);
    expect((await api<RunRecord>(stack, `/v1/runs/${runId}`)).body.status).toBe('queued');
    expect(await stack.api.app.hasRoute({ method: 'GET', url: '/v1/runs' })).toBe(true);
    const queue = await api<{ queues: { name: string; isPaused: boolean }[] }>(stack, '/admin/queues/api/queues', {
      key: stack.adminKey,
    });
    expect(queue.body.queues.find((q) => q.name === RUN_QUEUE_NAME)?.isPaused).toBe(false);
  }, 300_000);

  it('lets the callers with the right through on the same routes (so the probes above reach them)', async () => {
    const refusedByAuth: string[] = [];
    for (const row of table) {
      if (!row.access || row.access.auth === 'public' || row.method !== 'GET') continue;
      const key =
        row.access.auth === 'admin' ? stack.adminKey : row.access.scope === 'runs:read' ? keys.reader! : stack.apiKey;
      const headers = { ...bearer(key), accept: 'application/json' };
      const res = await raw('GET', concretePath(row.url), headers);
      if ([401, 403].includes(res.status)) refusedByAuth.push(`${row.url} → ${res.status}`);
    }
    expect(refusedByAuth).toEqual([]);
  });

  it('answers another tenant exactly as for a run that does not exist', async () => {
    const missing = 'run_00000000000000000000000000';
    const missingLesson = 'les_00000000000000000000000000';
    const normalize = (text: string) =>
      text.replaceAll(runId, 'ID').replaceAll(missing, 'ID').replaceAll(lessonId, 'ID').replaceAll(missingLesson, 'ID');
    for (const row of table) {
      if (row.access?.auth !== 'tenant' || !row.url.includes(':id')) continue;
      const body =
        row.method === 'PATCH'
          ? '{"pinned":true}'
          : row.method !== 'POST'
            ? undefined
            : row.url.endsWith('/hints')
              ? '{"text":"A hint."}'
              : row.url.endsWith('/rerun')
                ? '{"fromStage":"writeup"}'
                : undefined;
      const headers = {
        ...bearer(keys.other!),
        accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
      };
      const theirs = await raw(row.method, concretePath(row.url), headers, body);
      const none = await raw(
        row.method,
        concretePath(row.url).replace(runId, missing).replace(lessonId, missingLesson),
        headers,
        body,
      );
      expect(theirs.status, row.url).toBe(404);
      expect(normalize(theirs.text), row.url).toBe(normalize(none.text));
    }
  });
});

describe('scopes and expiry', () => {
  it('lets a read-only key list, watch and download, and refuses submit, cancel, hint and rerun naming the scope', async () => {
    const reader = keys.reader!;
    expect((await api(stack, '/v1/runs', { key: reader })).status).toBe(200);
    expect((await api(stack, `/v1/runs/${runId}`, { key: reader })).status).toBe(200);
    expect((await api(stack, `/v1/runs/${runId}/artifacts`, { key: reader })).status).toBe(200);
    expect(
      (await api(stack, `/v1/runs/${runId}/events?after=0`, { key: reader, headers: { accept: 'application/json' } }))
        .status,
    ).toBe(200);
    for (const [path, body] of [
      ['/v1/runs', { goal: 'A goal a read-only key must not submit.' }],
      [`/v1/runs/${runId}/cancel`, undefined],
      [`/v1/runs/${runId}/hints`, { text: 'A hint a read-only key must not send.' }],
      [`/v1/runs/${runId}/rerun`, { fromStage: 'writeup' }],
    ] as const) {
      const res = await api<ErrorBody>(stack, path, {
        method: 'POST',
        key: reader,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, path).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(res.body.error.message).toContain('runs:write');
      expect(res.body.error.details).toMatchObject({ requiredScope: 'runs:write', scopes: ['runs:read'] });
      expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    }
    expect((await api<RunRecord>(stack, `/v1/runs/${runId}`)).body.status).toBe('queued');
  });

  it('shows scopes and expiry when a key is created and listed; old-style admin flags still work', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const created = await createKey({ tenant: 'wall', name: 'wall display', scopes: ['runs:read'], expiresAt });
    expect(created).toMatchObject({ tenant: 'wall', admin: false, scopes: ['runs:read'], expiresAt });
    const admin = await createKey({ tenant: 'ops', admin: true });
    expect(admin).toMatchObject({ admin: true, scopes: ['runs:read', 'runs:write', 'admin'], expiresAt: null });
    const plain = await createKey({ tenant: 'plain' });
    expect(plain).toMatchObject({ admin: false, scopes: ['runs:read', 'runs:write'], expiresAt: null });
    const list = await api<{ keys: { id: string; scopes: string[]; expiresAt: string | null }[] }>(
      stack,
      '/v1/admin/keys',
      { key: stack.adminKey },
    );
    expect(list.body.keys.find((k) => k.id === created.id)).toMatchObject({ scopes: ['runs:read'], expiresAt });
  });

  it('refuses contradictory or past settings with 400 naming the field', async () => {
    for (const body of [
      { tenant: 'x', admin: true, scopes: ['runs:read'] },
      { tenant: 'x', scopes: [] },
      { tenant: 'x', scopes: ['runs:delete'] },
      { tenant: 'x', expiresAt: '2001-01-01T00:00:00Z' },
      { tenant: 'x', expiresAt: 'tomorrow' },
    ]) {
      const res = await api<ErrorBody>(stack, '/v1/admin/keys', {
        method: 'POST',
        body: JSON.stringify(body),
        key: stack.adminKey,
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toMatch(/scopes|expiresAt/);
    }
  });

  it('keeps the rights of keys stored before scopes existed', async () => {
    // A key record as the previous version wrote it: no scopes, no expiry fields.
    const legacy = await createKey({ tenant: 'legacy' });
    await stack.redis.hdel(`${stack.prefix}:apikey:${legacy.id}`, 'scopes', 'expiresAt');
    expect(await stack.redis.hexists(`${stack.prefix}:apikey:${legacy.id}`, 'scopes')).toBe(0);
    const submitted = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      key: legacy.key,
      body: JSON.stringify({ goal: 'A run submitted with a key made before scopes.' }),
    });
    expect(submitted.status).toBe(202);
  });

  it('refuses an expired key with 401', async () => {
    const res = await api<ErrorBody>(stack, '/v1/runs', { key: keys.expiring! });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired/);
  });
});
