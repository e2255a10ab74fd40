import type { EventPage, Hint, HintList, RunEvent, RunRecord } from '@autolab/contracts';
import { createRunQueue, HintStore, RedisKeys, RunStore } from '@autolab/store';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, submitRun } from '../stack.js';

/**
 * Hints and reruns through the HTTP API, without a worker: what a worker would do (finish a run, append events) is
 * done through the store, on the same Redis and prefix.
 */
type ErrorBody = { error: { code: string; message: string; details?: unknown } };

let stack: Stack;
let runs: RunStore;
let hints: HintStore;

const page = async (runId: string, after = '0') =>
  (await api<EventPage>(stack, `/v1/runs/${runId}/events?after=${after}`, { headers: { accept: 'application/json' } }))
    .body;
const rerun = (runId: string, fromStage: string) =>
  api<RunRecord & ErrorBody>(stack, `/v1/runs/${runId}/rerun`, {
    method: 'POST',
    body: JSON.stringify({ fromStage }),
  });
const finish = (runId: string) => runs.finish(runId, 'succeeded', null, 'Finished by the test.');

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const keys = new RedisKeys(stack.prefix);
  runs = new RunStore(stack.redis, keys);
  hints = new HintStore(stack.redis, keys);
});
afterAll(async () => {
  await stack?.close();
});

describe('hints', () => {
  it('accepts a hint for a live run (202), appends hint.received and lists it', async () => {
    const run = await submitRun(stack, { goal: 'A run that receives hints from a person.' });
    const res = await api<Hint>(stack, `/v1/runs/${run.id}/hints`, {
      method: 'POST',
      body: JSON.stringify({ text: '  Try a smaller learning rate first.  ' }),
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^hint_/),
      text: 'Try a smaller learning rate first.',
      createdAt: expect.any(String),
      appliedAt: null,
      appliedTo: null,
    });
    const events = (await page(run.id)).events;
    expect(events.at(-1)).toMatchObject({
      type: 'hint.received',
      data: { hintId: res.body.id, text: 'Try a smaller learning rate first.' },
    });

    const second = await api<Hint>(stack, `/v1/runs/${run.id}/hints`, {
      method: 'POST',
      body: JSON.stringify({ text: 'Also report the variance over seeds.' }),
    });
    const list = await api<HintList>(stack, `/v1/runs/${run.id}/hints`);
    expect(list.status).toBe(200);
    expect(list.body.hints.map((h) => h.id)).toEqual([res.body.id, second.body.id]);

    // The worker marks a hint applied once; later steps do not overwrite where it went first.
    await hints.markApplied(run.id, res.body.id, 'n003 improve');
    await hints.markApplied(run.id, res.body.id, 'n004 improve');
    const applied = (await api<HintList>(stack, `/v1/runs/${run.id}/hints`)).body.hints[0]!;
    expect(applied.appliedTo).toBe('n003 improve');
    expect(applied.appliedAt).toEqual(expect.any(String));
    expect((await hints.list(run.id))[1]!.appliedAt).toBeNull();
  });

  it('refuses bad hints with 400 and hints for a finished run with 409', async () => {
    const run = await submitRun(stack, { goal: 'A run that gets bad hints and is then cancelled.' });
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 'x'.repeat(2001) }, { text: 'ok', extra: 1 }]) {
      const res = await api<ErrorBody>(stack, `/v1/runs/${run.id}/hints`, {
        method: 'POST',
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect((await api(stack, `/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
    const late = await api<ErrorBody>(stack, `/v1/runs/${run.id}/hints`, {
      method: 'POST',
      body: JSON.stringify({ text: 'Too late for this one.' }),
    });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('run_already_finished');
    // run.finished stays the last event.
    expect((await page(run.id)).events.at(-1)!.type).toBe('run.finished');
    expect((await api<HintList>(stack, `/v1/runs/${run.id}/hints`)).body.hints).toEqual([]);
  });
});

describe('rerun', () => {
  it('refuses a run that has not finished with 409 run_not_finished, and bad stages with 400', async () => {
    const run = await submitRun(stack, { goal: 'A queued run that cannot be rerun yet.' });
    const res = await rerun(run.id, 'writeup');
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('run_not_finished');
    for (const stage of ['ideation', 'done', 'nonsense']) expect((await rerun(run.id, stage)).status).toBe(400);
    expect((await rerun('run_00000000000000000000000000', 'writeup')).status).toBe(404);
  });

  it('puts a finished run back in the queue with a new job carrying rerunFrom', async () => {
    const run = await submitRun(stack, { goal: 'A run that is finished and then rerun twice.' });
    await runs.transition(run.id, ['queued'], 'running', { startedAt: new Date().toISOString() });
    await runs.finish(run.id, 'failed', { code: 'paper_compile_failed', message: 'LaTeX said no.' }, 'Run failed.');

    const res = await rerun(run.id, 'writeup');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: run.id, status: 'queued', finishedAt: null, error: null });
    const events = (await page(run.id)).events;
    expect(events.slice(-2).map((e) => e.type)).toEqual(['run.finished', 'run.requeued']);
    expect(events.at(-1)!.data).toEqual({ reason: 'rerun from writeup', rerunFrom: 'writeup' });

    const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const queue = createRunQueue(connection, new RedisKeys(stack.prefix));
    try {
      const first = await queue.getJob(`${run.id}.rerun-1`);
      expect(first?.data).toEqual({ runId: run.id, rerunFrom: 'writeup' });
      expect(await first?.getState()).toBe('waiting');
      // The original job is still the run's first job.
      expect((await queue.getJob(run.id))?.data).toEqual({ runId: run.id });

      // Again, from another stage: a new job with a new id.
      expect((await rerun(run.id, 'experiments')).status).toBe(409); // still queued
      await finish(run.id);
      expect((await rerun(run.id, 'review')).status).toBe(202);
      const second = await queue.getJob(`${run.id}.rerun-2`);
      expect(second?.data).toEqual({ runId: run.id, rerunFrom: 'review' });

      // Cancelling the queued rerun removes that job.
      expect((await api(stack, `/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
      expect(await queue.getJob(`${run.id}.rerun-2`)).toBeUndefined();
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('heals a rerun whose job never reached the queue when it is asked for again', async () => {
    const run = await submitRun(stack, { goal: 'A run whose rerun job is lost between two writes.' });
    await finish(run.id);
    // What the API does first on a rerun, without the enqueue that follows (as if the process died in between).
    expect(await runs.requeueForRerun(run.id, 'figures')).toEqual({ ok: true, jobId: `${run.id}.rerun-1` });
    const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const queue = createRunQueue(connection, new RedisKeys(stack.prefix));
    try {
      expect(await queue.getJob(`${run.id}.rerun-1`)).toBeUndefined();
      const healed = await rerun(run.id, 'writeup');
      expect(healed.status).toBe(202);
      expect(healed.body).toMatchObject({ id: run.id, status: 'queued' });
      // The job the store recorded, with the stage that was asked first.
      expect((await queue.getJob(`${run.id}.rerun-1`))?.data).toEqual({ runId: run.id, rerunFrom: 'figures' });
      // Now it is queued for real: asking again is refused.
      expect((await rerun(run.id, 'writeup')).status).toBe(409);
      expect((await page(run.id)).events.filter((e) => e.type === 'run.requeued')).toHaveLength(1);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('reruns a cancelled run without the old cancel request', async () => {
    const run = await submitRun(stack, { goal: 'A run cancelled while running, then rerun.' });
    await runs.transition(run.id, ['queued'], 'running');
    expect((await api(stack, `/v1/runs/${run.id}/cancel`, { method: 'POST' })).status).toBe(202);
    const keys = new RedisKeys(stack.prefix);
    expect(await stack.redis.hget(keys.run(run.id), 'cancelRequested')).toBe('1');
    await runs.finish(run.id, 'cancelled', null, 'Run cancelled.');
    expect((await rerun(run.id, 'figures')).status).toBe(202);
    expect(await stack.redis.hget(keys.run(run.id), 'cancelRequested')).toBeNull();
  });

  it('keeps an event stream open across a rerun and ends it at the last run.finished', async () => {
    const run = await submitRun(stack, { goal: 'A run whose event stream spans a rerun.' });
    await finish(run.id);
    // A finished run: the stream replays and ends after run.finished.
    const done = await readSse(stack, run.id, { timeoutMs: 10_000 });
    expect(done.ended).toBe(true);
    expect(done.events.map((e) => e.type)).toEqual(['run.queued', 'run.finished']);
    expect((await page(run.id)).finished).toBe(true);

    expect((await rerun(run.id, 'writeup')).status).toBe(202);
    // After the rerun, an old run.finished is not the end: JSON pages say so...
    const afterRerun = await page(run.id);
    expect(afterRerun.events.map((e) => e.type)).toEqual(['run.queued', 'run.finished', 'run.requeued']);
    expect(afterRerun.finished).toBe(false);
    expect(afterRerun.next).toBe(afterRerun.events.at(-1)!.id);
    // ...and a client watching from the start keeps receiving past it.
    const seen: RunEvent[] = [];
    const watching = readSse(stack, run.id, { timeoutMs: 20_000, onEvent: (e) => seen.push(e) });
    await until(() => seen.some((e) => e.type === 'run.requeued'));
    // A client that had seen the first run.finished and reconnects is not cut off either.
    const resumed: RunEvent[] = [];
    const reconnecting = readSse(stack, run.id, {
      lastEventId: done.events.at(-1)!.id,
      timeoutMs: 20_000,
      onEvent: (e) => resumed.push(e),
    });
    await until(() => resumed.some((e) => e.type === 'run.requeued'));
    await new Promise((r) => setTimeout(r, 300));

    // The worker runs it again: it starts, works, finishes.
    await runs.markStarted(run.id, 2, {
      type: 'run.started',
      message: 'Run started (rerun).',
      data: { attempt: 2, worker: 'test', resumedAt: null },
    });
    await runs.appendEvent(run.id, { type: 'stage.started', message: 'Writeup.', data: { stage: 'writeup' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.at(-1)!.type).toBe('stage.started');
    await finish(run.id);

    const [live, again] = await Promise.all([watching, reconnecting]);
    expect(live.ended).toBe(true);
    expect(live.events.map((e) => e.type)).toEqual([
      'run.queued',
      'run.finished',
      'run.requeued',
      'run.started',
      'stage.started',
      'run.finished',
    ]);
    expect(again.ended).toBe(true);
    expect(again.events.map((e) => e.type)).toEqual(['run.requeued', 'run.started', 'stage.started', 'run.finished']);
    const final = await page(run.id);
    expect(final.finished).toBe(true);
    expect(final.next).toBeNull();
    // Polling from the middle reaches the end too.
    expect((await page(run.id, afterRerun.next!)).finished).toBe(true);
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
