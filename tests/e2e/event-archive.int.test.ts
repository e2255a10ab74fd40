import { randomBytes } from 'node:crypto';
import type { RunEvent, RunRecord } from '@autolab/contracts';
import {
  ArtifactStoreEnv,
  artifactStoreConfig,
  openRunArchiveStore,
  RedisKeys,
  RunArchiver,
  RunStore,
  readArchivedEvents,
} from '@autolab/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type S3Server, startS3Server } from '../s3-server.js';
import { api, readSse, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

/**
 * A finished run's events and checkpoint move from Redis to the artifact store (local directory, or an S3-protocol
 * server over HTTP) and the events API serves them as before: same ids, same order, same events, in JSON pages and
 * over SSE with Last-Event-ID, also while the trim happens and after an archiver died between its steps. A rerun of an
 * archived run resumes from the archived checkpoint, and the worker archives it again after its retention.
 */
const SMALL_RUN = {
  goal: 'Does a wider hidden layer help on the two-moons toy task?',
  model: 'demo',
  maxIterations: 2,
  seeds: 0,
  search: { numDrafts: 1 },
  review: { reviewers: 0 },
  ideation: { numIdeas: 1, reflections: 0 },
};

type Page = { events: RunEvent[]; next: string | null; finished: boolean };

async function jsonEvents(stack: Stack, runId: string, limit: number, after = '0', pages = Infinity) {
  const events: RunEvent[] = [];
  let cursor: string | null = after;
  for (let page = 0; cursor !== null && page < pages; page++) {
    const res: { status: number; body: Page } = await api<Page>(
      stack,
      `/v1/runs/${runId}/events?after=${cursor}&limit=${limit}`,
      {
        headers: { accept: 'application/json' },
      },
    );
    expect(res.status).toBe(200);
    events.push(...res.body.events);
    cursor = res.body.finished ? null : res.body.next;
    if (res.body.events.length === 0 && !res.body.finished) break;
  }
  return { events, cursor };
}

async function runKeyBytes(stack: Stack, runId: string): Promise<number> {
  const keys = new RedisKeys(stack.prefix);
  let total = 0;
  for (const key of [keys.run(runId), keys.events(runId), keys.checkpoint(runId), keys.checkpointNodes(runId)]) {
    total += Number((await stack.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  }
  return total;
}

const VARIANTS = [
  { name: 'local directory', s3: false },
  { name: 'S3', s3: true },
] as const;

describe.each(VARIANTS)('archived event logs and checkpoints ($name)', ({ s3: useS3 }) => {
  let s3: S3Server | null = null;
  let stack: Stack;
  let run: RunRecord;
  let before: RunEvent[];
  let env: Record<string, string>;

  beforeAll(async () => {
    env = {};
    if (useS3) {
      s3 = await startS3Server();
      env = s3.env(`e2e-${randomBytes(4).toString('hex')}`);
    }
    stack = await startStack({ worker: false, apiEnv: env, workerEnv: env });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await s3?.close();
  });

  const archiverOf = () => {
    const settings = z.object(ArtifactStoreEnv).parse({ ...env, AUTOLAB_S3_RETRY_SECONDS: '5' });
    const config = artifactStoreConfig({ ...settings, AUTOLAB_DATA_DIR: stack.dataDir });
    const store = openRunArchiveStore(config, { waitForOutages: true });
    const runs = new RunStore(stack.redis, new RedisKeys(stack.prefix), store);
    return { runs, store, archiver: new RunArchiver(runs, store, 0) };
  };

  it('serves the same events after an archiver died between writing and trimming, and after the trim', async () => {
    // A worker that keeps finished runs in Redis for an hour: the test takes the archiver's steps itself.
    const worker = await stack.startWorker({ AUTOLAB_EVENTS_RETENTION_SECONDS: '3600' });
    run = await submitRun(stack, SMALL_RUN);
    run = await waitForStatus(stack, run.id, ['succeeded', 'failed'], 240_000);
    await worker.close();
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    before = (await jsonEvents(stack, run.id, 1000)).events;
    expect(before.length).toBeGreaterThan(20);
    const bytesBefore = await runKeyBytes(stack, run.id);

    // Step 1 and 2 of one archiver, then it "dies" (no commit): the files exist, Redis is untouched.
    const first = archiverOf();
    const prepared = (await first.archiver.prepare(run.id))!;
    await first.archiver.write(prepared);
    expect((await readArchivedEvents(first.store, run.id))!.map(([id]) => id)).toEqual(before.map((e) => e.id));
    expect((await jsonEvents(stack, run.id, 7)).events).toEqual(before);

    // A client pages through the log while another archiver (a new process) trims it between two pages.
    const half = await jsonEvents(stack, run.id, 5, '0', 3);
    const second = archiverOf();
    expect(await second.archiver.archive(run.id)).toBe(true);
    const rest = await jsonEvents(stack, run.id, 5, half.cursor!);
    expect([...half.events, ...rest.events]).toEqual(before);

    // Redis holds no event and no checkpoint of the run any more; the API serves the same log.
    const keys = new RedisKeys(stack.prefix);
    expect(await stack.redis.xlen(keys.events(run.id))).toBe(0);
    expect(await stack.redis.exists(keys.checkpoint(run.id), keys.checkpointNodes(run.id))).toBe(0);
    expect(await stack.redis.zscore(keys.finishedRuns(), run.id)).toBeNull();
    expect(await runKeyBytes(stack, run.id)).toBeLessThan(bytesBefore / 3);
    expect((await jsonEvents(stack, run.id, 200)).events).toEqual(before);
    expect((await jsonEvents(stack, run.id, 3, before[9]!.id)).events).toEqual(before.slice(10));
    // The first archiver wakes up and commits what it had read: nothing changes, nothing is repeated.
    expect(await first.archiver.commit(prepared)).toBe(true);
    expect((await jsonEvents(stack, run.id, 11)).events).toEqual(before);

    // SSE: from the start, resumed with Last-Event-ID in the middle, and from the last event (ends at once).
    const sse = await readSse(stack, run.id, { timeoutMs: 20_000 });
    expect(sse.ended).toBe(true);
    expect(sse.events).toEqual(before);
    const resumed = await readSse(stack, run.id, { lastEventId: before[14]!.id, timeoutMs: 20_000 });
    expect(resumed.events).toEqual(before.slice(15));
    const atEnd = await readSse(stack, run.id, { lastEventId: before.at(-1)!.id, timeoutMs: 20_000 });
    expect(atEnd).toMatchObject({ ended: true, events: [] });
    // The run record itself is unchanged.
    const record = await api<RunRecord>(stack, `/v1/runs/${run.id}`);
    expect(record.body.status).toBe('succeeded');
  }, 300_000);

  it('reruns an archived run from its archived checkpoint, then the worker archives it again after its retention', async () => {
    // A worker with a retention of 0: finished runs move to the archive within about a second.
    const worker = await stack.startWorker({ AUTOLAB_EVENTS_RETENTION_SECONDS: '0' });
    const calls = () => stack.scripted.callsFor(run.id).length;
    const callsBefore = calls();
    const rerun = await api(stack, `/v1/runs/${run.id}/rerun`, {
      method: 'POST',
      body: JSON.stringify({ fromStage: 'writeup' }),
    });
    expect(rerun.status).toBe(202);
    // Live events of the rerun come after the archived ones on one SSE stream.
    const live = await readSse(stack, run.id, { lastEventId: before.at(-1)!.id, timeoutMs: 240_000 });
    expect(live.ended).toBe(true);
    expect(live.events[0]!.type).toBe('run.requeued');
    expect(live.events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'succeeded' } });
    // It resumed from the archived state: no experiment ran again, only the paper was written anew.
    expect(live.events.map((e) => e.type)).not.toContain('node.created');
    expect(calls() - callsBefore).toBeGreaterThan(0);
    const keys = new RedisKeys(stack.prefix);
    const deadline = Date.now() + 30_000;
    while ((await stack.redis.xlen(keys.events(run.id))) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    await worker.close();
    expect(await stack.redis.xlen(keys.events(run.id))).toBe(0);
    expect(await stack.redis.exists(keys.checkpoint(run.id))).toBe(0);
    const all = [...before, ...live.events];
    expect((await jsonEvents(stack, run.id, 13)).events).toEqual(all);
    expect((await readSse(stack, run.id, { timeoutMs: 20_000 })).events).toEqual(all);
  }, 300_000);

  it.skipIf(!useS3)(
    'tells an SSE reader of an archived run that the artifact store is down, in the one error shape, and serves it again once it is back',
    async () => {
      // A copy of the archived run under a new id: no API process has read its log yet, so nothing is cached.
      const copy = `run_${randomBytes(16).toString('hex').slice(0, 26)}`;
      const keys = new RedisKeys(stack.prefix);
      const { store } = archiverOf();
      const archived = (await readArchivedEvents(store, run.id))!;
      await store.put(copy, 'events.jsonl', archived.map((event) => `${JSON.stringify(event)}\n`).join(''));
      await stack.redis.hset(keys.run(copy), { ...(await stack.redis.hgetall(keys.run(run.id))), id: copy });
      expect(await stack.redis.hget(keys.run(copy), 'archivedThrough')).toBe(archived.at(-1)![0]);

      await s3!.stop();
      let down: Awaited<ReturnType<typeof readSse>>;
      try {
        down = await readSse(stack, copy, { timeoutMs: 20_000 });
      } finally {
        await s3!.start();
      }
      // Not a stream that just ends: an error frame (no id, so Last-Event-ID stays) in the API's error shape, with
      // `retry:` set to the Retry-After an HTTP answer would have carried.
      expect(down).toMatchObject({ status: 200, ended: true, events: [] });
      expect(down.streamError).toEqual({
        error: {
          code: 'artifact_store_unavailable',
          message: expect.any(String),
          details: { retryAfterSeconds: 5 },
        },
      });
      expect(down.raw).toMatch(/\nretry: 5000\nevent: stream\.error\ndata: \{"error"/);
      expect(down.raw).not.toMatch(/\nid: /);

      const back = await readSse(stack, copy, { timeoutMs: 20_000 });
      expect(back.streamError).toBeNull();
      expect(back.ended).toBe(true);
      expect(back.events.map((e) => e.id)).toEqual(archived.map(([id]) => id));
    },
    120_000,
  );
});
