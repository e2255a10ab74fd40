import { randomBytes } from 'node:crypto';
import type { LessonEvidence } from '@autolab/contracts';
import type { LearnedLesson } from '@autolab/lessons';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LessonStore } from './lesson-store.js';
import { RedisKeys } from './redis-keys.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`autolab-test-lessons-${randomBytes(4).toString('hex')}`);

const evidence = (runId: string, nodeId = 'n002'): LessonEvidence => ({
  runId,
  nodeId,
  parentNodeId: 'n001',
  stance: 'supports',
  metric: 'final_loss',
  before: null,
  after: 0.31,
  error: 'ValueError: shapes (75,4) and (5,) not aligned',
  results: `experiments/${nodeId}/results.json`,
  recordedAt: '2026-12-05T12:00:00.000Z',
});
const learned = (text: string, runId: string, over: Partial<LearnedLesson> = {}): LearnedLesson => ({
  kind: 'pitfall',
  text,
  tags: ['lib:numpy'],
  evidence: [evidence(runId)],
  relation: null,
  ...over,
});

const BIAS =
  'A weight vector sized for the bias crashes gradient descent with a shape mismatch unless the design matrix gets a column of ones.';
const JSON_NUMPY =
  'json.dump of numpy float32 values in results.json raises TypeError; convert them with float() first.';

describe('LessonStore (real Redis): per-tenant libraries, merged, searched and shared read-only', () => {
  afterAll(async () => {
    const found = await redis.keys(`${keys.prefix}:*`);
    if (found.length > 0) await redis.del(...found);
    await redis.quit();
  });

  it('keeps each tenant to its own lessons: search, get, update and delete never reach another tenant’s', async () => {
    const store = new LessonStore(redis, keys);
    const [mine] = await store.learn('alpha', [learned(BIAS, 'run_a')]);
    await store.learn('beta', [learned(JSON_NUMPY, 'run_b')]);
    expect((await store.search('beta', { q: 'gradient descent bias design matrix shape', limit: 10 })).hits).toEqual(
      [],
    );
    expect((await store.search('beta', { limit: 10 })).hits.map((h) => h.lesson.text)).toEqual([JSON_NUMPY]);
    expect(await store.get('beta', mine!.id)).toBeNull();
    expect(await store.update('beta', mine!.id, { retracted: true })).toBeNull();
    expect(await store.delete('beta', mine!.id)).toBe(false);
    expect((await store.get('alpha', mine!.id))?.retracted).toBe(false);
  });

  it('merges runs of one tenant ending at the same moment into one lesson: no run’s evidence is lost', async () => {
    const store = new LessonStore(redis, keys);
    await store.learn('gamma', [learned(BIAS, 'run_first')]);
    const runs = Array.from({ length: 8 }, (_, i) => `run_${i}`);
    // Eight runs confirm the same lesson at once, each through its own store (as eight workers would).
    await Promise.all(runs.map((runId) => new LessonStore(redis, keys).learn('gamma', [learned(BIAS, runId)])));
    const [lesson, ...others] = await store.own('gamma');
    expect(others).toEqual([]);
    expect(lesson!.evidence.map((e) => e.runId).sort()).toEqual(['run_first', ...runs].sort());
    expect(lesson!.confidence).toBeCloseTo(10 / 11);
  });

  it('sees a retraction at once in search (the cached index is rebuilt), and a delete', async () => {
    const store = new LessonStore(redis, keys);
    const [lesson] = await store.learn('delta', [learned(BIAS, 'run_d')]);
    const query = { q: 'shape mismatch bias column gradient descent', limit: 5 };
    expect((await store.search('delta', query)).hits.map((h) => h.lesson.id)).toEqual([lesson!.id]);
    await store.update('delta', lesson!.id, { retracted: true });
    expect((await store.search('delta', query)).hits).toEqual([]);
    expect((await store.search('delta', { ...query, includeRetracted: true })).hits).toHaveLength(1);
    expect(await store.delete('delta', lesson!.id)).toBe(true);
    expect((await store.search('delta', { ...query, includeRetracted: true })).hits).toEqual([]);
  });

  it('shares a library read-only with named tenants, and takes it back', async () => {
    const store = new LessonStore(redis, keys);
    const [lesson] = await store.learn('owner', [learned(BIAS, 'run_o')]);
    const query = { q: 'bias column design matrix shape mismatch', limit: 5 };
    expect((await store.search('reader', query)).hits).toEqual([]);
    await store.share('owner', ['reader']);
    expect(await store.readers('owner')).toEqual(['reader']);
    expect((await store.search('reader', query)).hits.map((h) => h.lesson.id)).toEqual([lesson!.id]);
    expect((await store.get('reader', lesson!.id))?.tenant).toBe('owner');
    // Read-only: the reader cannot change or delete it.
    expect(await store.update('reader', lesson!.id, { pinned: true })).toBeNull();
    expect(await store.delete('reader', lesson!.id)).toBe(false);
    expect((await store.search('stranger', query)).hits).toEqual([]);
    await store.share('owner', []);
    expect((await store.search('reader', query)).hits).toEqual([]);
    expect(await store.get('reader', lesson!.id)).toBeNull();
  });

  it('pages through a library of 1,000 lessons', async () => {
    const store = new LessonStore(redis, keys);
    const many = Array.from({ length: 1000 }, (_, i) =>
      learned(`Setting ${i}: learning rate ${i / 1000} for model family ${i % 37} on dataset ${i % 11}.`, `run_${i}`, {
        kind: 'setting',
      }),
    );
    await store.learn('big', many);
    const first = await store.search('big', { limit: 50 });
    expect(first.hits).toHaveLength(50);
    expect(first.more).toBe(true);
    const last = await store.search('big', { limit: 50, offset: 950 });
    expect(last.hits).toHaveLength(50);
    expect(last.more).toBe(false);
    const found = await store.search('big', { q: 'learning rate model family 5 dataset 3', limit: 3 });
    expect(found.hits.length).toBeGreaterThan(0);
  });
});
