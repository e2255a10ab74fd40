import { request as httpRequest } from 'node:http';
import type { RunList, RunRecord } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, authHeaders, type Stack, startStack, submitRun } from '../stack.js';

/** Bad input of every kind gets a clear 4xx in the one error shape, and the service keeps running. */
let stack: Stack;
type ErrorBody = { error: { code: string; message: string; details?: unknown } };

/** Sends a raw request line, so paths are not normalized by a client library. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const url = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method: 'GET', headers: authHeaders(stack) },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('API input validation', () => {
  beforeAll(async () => {
    // No worker: these tests only talk to the API; queued runs just wait.
    stack = await startStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    api<ErrorBody>(stack, '/v1/runs', { method: 'POST', body, headers });

  it.each([
    ['wrong types', JSON.stringify({ goal: 42, maxIterations: 'many' }), 'validation_failed'],
    ['missing goal', JSON.stringify({ maxIterations: 3 }), 'validation_failed'],
    ['too short a goal', JSON.stringify({ goal: 'hi' }), 'validation_failed'],
    ['unknown fields', JSON.stringify({ goal: 'A perfectly fine research goal.', colour: 'red' }), 'validation_failed'],
    [
      'negative budget',
      JSON.stringify({ goal: 'A perfectly fine research goal.', budgetUsd: -1 }),
      'validation_failed',
    ],
    [
      'sandbox out of range',
      JSON.stringify({ goal: 'A perfectly fine research goal.', sandbox: { memoryMb: 1 } }),
      'validation_failed',
    ],
    [
      'bad model name',
      JSON.stringify({ goal: 'A perfectly fine research goal.', model: '../etc' }),
      'validation_failed',
    ],
    ['broken JSON', '{"goal": "unterminated', 'invalid_json'],
    ['an array', '[]', 'validation_failed'],
  ])('rejects %s with 400', async (_name, body, code) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message.length).toBeGreaterThan(0);
  });

  it('rejects a 1 MB goal with 413 before parsing it', async () => {
    const res = await post(JSON.stringify({ goal: 'x'.repeat(1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('rejects a goal just over the length limit with a 400 that names the field', async () => {
    const res = await post(JSON.stringify({ goal: 'x'.repeat(8001) }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/goal/);
  });

  it('rejects a body that is not JSON with 415', async () => {
    const res = await post('goal=hello', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers 404 for unknown and malformed run ids on every route', async () => {
    for (const id of ['run_00000000000000000000000000', 'nope', 'run_../../etc']) {
      for (const path of [
        `/v1/runs/${id}`,
        `/v1/runs/${id}/events`,
        `/v1/runs/${id}/artifacts`,
        `/v1/runs/${id}/archive`,
        `/v1/runs/${id}/artifacts/paper/paper.pdf`,
      ]) {
        const res = await api<ErrorBody>(stack, path, { headers: { accept: 'application/json' } });
        expect(res.status, path).toBe(404);
        expect(res.body.error.code, path).toBe('run_not_found');
      }
      const cancel = await api<ErrorBody>(stack, `/v1/runs/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(404);
    }
    const route = await api<ErrorBody>(stack, '/v1/nothing-here');
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe('route_not_found');
  });

  it('never lets an artifact path escape the run', async () => {
    const run = await submitRun(stack, { goal: 'A run whose artifacts are probed with bad paths.' });
    for (const path of [
      '../../../etc/passwd',
      '..%2F..%2Fetc%2Fpasswd',
      '%2e%2e/%2e%2e/etc/passwd',
      'paper/../../x',
      '/etc/passwd',
      'a//b',
      'paper/.',
    ]) {
      const res = await rawGet(`/v1/runs/${run.id}/artifacts/${path}`);
      expect([400, 404], path).toContain(res.status);
      expect(res.body, path).not.toContain('root:');
      expect(JSON.parse(res.body).error.code, path).toMatch(/invalid_path|artifact_not_found|route_not_found/);
    }
    const missing = await api<ErrorBody>(stack, `/v1/runs/${run.id}/artifacts/paper/paper.pdf`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('artifact_not_found');
  });

  it('rejects bad cursors and event ids with 400', async () => {
    const run = await submitRun(stack, { goal: 'A run for cursor validation tests.' });
    expect((await api<ErrorBody>(stack, '/v1/runs?cursor=abc')).status).toBe(400);
    expect((await api<ErrorBody>(stack, '/v1/runs?limit=0')).status).toBe(400);
    const bad = await api<ErrorBody>(stack, `/v1/runs/${run.id}/events?after=banana`, {
      headers: { accept: 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_cursor');
  });

  it('returns the same run for the same Idempotency-Key, and 409 for a different body', async () => {
    const body = JSON.stringify({ goal: 'An idempotent submission of a research goal.' });
    const headers = { 'content-type': 'application/json', 'idempotency-key': `key-${Date.now()}` };
    const first = await api<RunRecord>(stack, '/v1/runs', { method: 'POST', body, headers });
    const second = await api<RunRecord>(stack, '/v1/runs', { method: 'POST', body, headers });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    const other = await api<ErrorBody>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ goal: 'A different goal under the same key.' }),
      headers,
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    const badKey = await api<ErrorBody>(stack, '/v1/runs', {
      method: 'POST',
      body,
      headers: { ...headers, 'idempotency-key': 'spaces are not ok' },
    });
    expect(badKey.status).toBe(400);
  });

  it('lists runs newest first with cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submitRun(stack, { goal: `Pagination test run number ${i}.` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: RunList } = await api<RunList>(stack, `/v1/runs?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.runs.map((r) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('still answers after all of that, and serves the OpenAPI document', async () => {
    const doc = await api<{ openapi: string; paths: Record<string, unknown> }>(stack, '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/runs',
        '/v1/runs/{id}',
        '/v1/runs/{id}/events',
        '/v1/runs/{id}/cancel',
        '/v1/runs/{id}/archive',
        '/healthz',
      ]),
    );
    const health = await api<{ redis: boolean; workers: unknown[] }>(stack, '/healthz');
    expect(health.status).toBe(503); // no worker in this stack
    expect(health.body.redis).toBe(true);
  });
});
