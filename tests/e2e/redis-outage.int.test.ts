import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { RunEvent } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../redis-server.js';
import { api, readSse, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

/**
 * Item 15 of issue 7: Redis is killed (SIGKILL) in the middle of a run while clients keep calling, then started
 * again. While it is down the API answers `503 unavailable` with `Retry-After` quickly (not a 500, not a hang) and
 * `/healthz` names Redis as what is down; afterwards everything answers again, and the event stream a client watched
 * across the outage holds every event exactly once. The stack runs against a Redis server of its own, with an
 * append-only file so that the restarted server has what it acknowledged.
 */
const COMMAND_TIMEOUT_S = 1;
/** How fast an answer must come during the outage. */
const QUICK_MS = COMMAND_TIMEOUT_S * 1000 + 1_500;

let redis: RedisServer;
let stack: Stack;

beforeAll(async () => {
  redis = await startRedisServer({ persist: true });
  stack = await startStack({
    redisUrl: redis.url,
    apiEnv: { AUTOLAB_REDIS_COMMAND_TIMEOUT_SECONDS: String(COMMAND_TIMEOUT_S) },
    // Longer than the outage: the worker keeps its job instead of BullMQ declaring it stalled.
    workerEnv: { AUTOLAB_JOB_LOCK_SECONDS: '30' },
  });
}, 120_000);

afterAll(async () => {
  // Whatever a failed test left it in: running, so that the stack can clean up.
  redis?.thaw();
  if (stack && (await stack.redis.ping().catch(() => null)) !== 'PONG') await redis.restart();
  await stack?.close().catch(() => undefined);
  await redis?.stop();
});

interface Timed {
  what: string;
  status: number;
  code: string | undefined;
  retryAfter: string | null;
  ms: number;
}

async function timed(what: string, path: string, init: Parameters<typeof api>[2] = {}): Promise<Timed> {
  const started = Date.now();
  const res = await api<{ error?: { code: string } }>(stack, path, init);
  return {
    what,
    status: res.status,
    code: typeof res.body === 'object' ? res.body?.error?.code : undefined,
    retryAfter: res.headers.get('retry-after'),
    ms: Date.now() - started,
  };
}

describe('a Redis outage', () => {
  it('with a hung server: 503 within the command timeout, and a submit retried with its key makes one run', async () => {
    const before = (await api<{ runs: { id: string }[] }>(stack, '/v1/runs?limit=100')).body.runs.length;
    redis.freeze();
    const key = `hung-${randomBytes(4).toString('hex')}`;
    const body = JSON.stringify({ goal: 'Submitted while the database hangs.', model: 'demo' });
    let answers: Timed[];
    let health: Response;
    try {
      answers = await Promise.all([
        timed('submit', '/v1/runs', { method: 'POST', body, headers: { 'idempotency-key': key } }),
        timed('list runs', '/v1/runs'),
        timed('admin keys', '/v1/admin/keys', { key: stack.adminKey }),
      ]);
      health = await fetch(`${stack.apiUrl}/healthz`);
    } finally {
      redis.thaw();
    }
    for (const answer of answers) {
      expect(answer, answer.what).toMatchObject({ status: 503, code: 'unavailable' });
      expect(Number(answer.retryAfter), answer.what).toBeGreaterThan(0);
      expect(answer.ms, answer.what).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_S * 1000 - 100);
      expect(answer.ms, answer.what).toBeLessThan(QUICK_MS);
    }
    expect(health.status).toBe(503);
    expect(((await health.json()) as { down: string[] }).down).toEqual(['redis']);

    // The hung server executes the submit once it carries on: the run was committed although the client got 503.
    // Retried with the same key, the submit answers that run (and queues it) instead of making a second one.
    const retried = await api<{ id: string; status: string }>(stack, '/v1/runs', {
      method: 'POST',
      body,
      headers: { 'idempotency-key': key },
    });
    expect(retried.status).toBe(202);
    const after = (await api<{ runs: { id: string }[] }>(stack, '/v1/runs?limit=100')).body.runs;
    expect(after.length).toBe(before + 1);
    // …and it is really queued: the worker takes it.
    const running = await waitForStatus(stack, retried.body.id, ['running', 'succeeded', 'failed'], 60_000);
    expect(running.id).toBe(retried.body.id);
    await api(stack, `/v1/runs/${retried.body.id}/cancel`, { method: 'POST' });
    await waitForStatus(stack, retried.body.id, ['cancelled', 'succeeded', 'failed'], 60_000);
  }, 120_000);

  it('an upload whose commit hangs answers 503, and the upload the server then commits has its files', async () => {
    // The body streams while Redis answers; it hangs just before the last bytes, so the commit is what waits.
    const boundary = 'outage-upload';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="late.csv"\r\n\r\nid,x\n1,2\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const socket = connect(new URL(stack.apiUrl).port ? Number(new URL(stack.apiUrl).port) : 80, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
    });
    socket.write(
      `POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${stack.apiKey}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${head.length + tail.length}\r\n\r\n${head}`,
    );
    await new Promise((r) => setTimeout(r, 500));
    redis.freeze();
    try {
      socket.write(tail);
      const until = Date.now() + QUICK_MS + 2_000;
      while (!answer.includes('\r\n\r\n{') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    } finally {
      redis.thaw();
      socket.destroy();
    }
    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    expect(answer).toContain('"unavailable"');
    // The server executes the commit it had received once it carries on: the upload exists, so its files must too.
    const listed = (await api<{ uploads: { id: string; files?: unknown }[] }>(stack, '/v1/uploads')).body.uploads;
    for (const { id } of listed) {
      const files = await readdir(join(stack.dataDir, 'uploads', id, 'files')).catch(() => []);
      expect(files, `upload ${id} has a record but no files`).not.toEqual([]);
    }
    expect(listed.length).toBeGreaterThan(0);
  }, 60_000);

  it('is answered 503 with Retry-After while it lasts, and a watched run loses and repeats no event', async () => {
    const run = await submitRun(stack, {
      goal: 'Count slowly while the database goes away and comes back.',
      model: 'slow',
      seeds: 0,
      search: { numDrafts: 1 },
      review: { reviewers: 0 },
      ideation: { numIdeas: 1, reflections: 0 },
    });
    // A client watching the whole time, from before the outage to the end of the run.
    const live: RunEvent[] = [];
    const watching = readSse(stack, run.id, { timeoutMs: 240_000, onEvent: (e) => live.push(e) });
    const until = Date.now() + 120_000;
    while (!live.some((e) => e.type === 'exec.output') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect(
      live.some((e) => e.type === 'exec.output'),
      'the slow experiment is printing',
    ).toBe(true);
    const beforeOutage = live.length;

    await redis.kill();
    const key = `outage-${randomBytes(4).toString('hex')}`;
    const answers: Timed[] = [];
    const outageStarted = Date.now();
    // Three rounds over about three seconds, every kind of request.
    for (let round = 0; round < 3; round++) {
      answers.push(
        ...(await Promise.all([
          timed('get run', `/v1/runs/${run.id}`),
          timed('list runs', '/v1/runs'),
          timed('submit', '/v1/runs', {
            method: 'POST',
            body: JSON.stringify({ goal: 'Submitted while the database is down.', model: 'demo' }),
            headers: { 'idempotency-key': key },
          }),
          timed('events page', `/v1/runs/${run.id}/events`, { headers: { accept: 'application/json' } }),
          timed('event stream', `/v1/runs/${run.id}/events`, { headers: { accept: 'text/event-stream' } }),
          timed('artifacts', `/v1/runs/${run.id}/artifacts`),
          timed('admin keys', '/v1/admin/keys', { key: stack.adminKey }),
        ])),
      );
      await new Promise((r) => setTimeout(r, 700));
    }
    const health = await fetch(`${stack.apiUrl}/healthz`);
    const healthBody = (await health.json()) as { status: string; redis: boolean; down: string[] };
    const outageMs = Date.now() - outageStarted;

    for (const answer of answers) {
      expect(answer, answer.what).toMatchObject({ status: 503, code: 'unavailable' });
      expect(Number(answer.retryAfter), answer.what).toBeGreaterThan(0);
      expect(answer.ms, answer.what).toBeLessThan(QUICK_MS);
    }
    expect(health.status).toBe(503);
    expect(healthBody).toMatchObject({ status: 'degraded', redis: false });
    expect(healthBody.down).toContain('redis');

    await redis.restart();
    const restartedAt = Date.now();
    let recovered: Timed | null = null;
    while (Date.now() - restartedAt < 30_000) {
      recovered = await timed('get run', `/v1/runs/${run.id}`);
      if (recovered.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered?.status).toBe(200);
    const recoveryMs = Date.now() - restartedAt;

    // The submit refused during the outage is retried with the same key: one run, however often it is retried.
    const first = await api<{ id: string }>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ goal: 'Submitted while the database is down.', model: 'demo' }),
      headers: { 'idempotency-key': key },
    });
    const again = await api<{ id: string }>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ goal: 'Submitted while the database is down.', model: 'demo' }),
      headers: { 'idempotency-key': key },
    });
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body.id).toBe(first.body.id);

    // The watched run goes on: new events reach the client that was watching through the outage.
    while (live.length <= beforeOutage + 3 && Date.now() - restartedAt < 60_000)
      await new Promise((r) => setTimeout(r, 200));
    expect(live.length).toBeGreaterThan(beforeOutage + 3);
    await api(stack, `/v1/runs/${run.id}/cancel`, { method: 'POST' });
    await api(stack, `/v1/runs/${first.body.id}/cancel`, { method: 'POST' });
    const watched = await watching;
    expect(watched.ended).toBe(true);
    await waitForStatus(stack, run.id, ['cancelled', 'failed', 'succeeded'], 60_000);

    // Every event exactly once, in order: what the live client saw is what the log holds.
    const stored: RunEvent[] = [];
    for (let after = '0'; ; ) {
      const page = await api<{ events: RunEvent[]; next: string | null }>(
        stack,
        `/v1/runs/${run.id}/events?after=${after}&limit=1000`,
        { headers: { accept: 'application/json' } },
      );
      stored.push(...page.body.events);
      if (!page.body.next || page.body.events.length === 0) break;
      after = page.body.next;
    }
    const ids = live.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(stored.map((e) => e.id));
    expect(live.at(-1)?.type).toBe('run.finished');

    const healthy = (await (await fetch(`${stack.apiUrl}/healthz`)).json()) as { redis: boolean; down: string[] };
    expect(healthy.redis).toBe(true);
    expect(healthy.down).not.toContain('redis');
    console.log(
      `redis outage: ${answers.length} requests during ${outageMs} ms, slowest answer ${Math.max(...answers.map((a) => a.ms))} ms; ` +
        `recovered ${recoveryMs} ms after the restart; ${live.length} events, none lost or repeated`,
    );
  }, 300_000);
});
