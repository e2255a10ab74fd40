import type { LessonEvidence, RunEvent } from '@autolab/contracts';
import { LessonStore, RedisKeys } from '@autolab/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type Stack, startStack, submitRun } from '../stack.js';

/**
 * Hybrid lesson retrieval through the real stack: a worker with AUTOLAB_EMBEDDINGS_MODEL embeds the tenant's lessons
 * and each step's query at the model endpoint (the scripted server's deterministic `/v1/embeddings`), keeps the
 * lessons' vectors in Redis, and says `retrieval: "hybrid"` in `lessons.applied`.
 */
let stack: Stack;

const evidence: LessonEvidence = {
  runId: 'run_seeded',
  nodeId: 'n002',
  parentNodeId: 'n001',
  stance: 'supports',
  metric: 'score',
  before: 1,
  after: 2,
  error: null,
  results: null,
  recordedAt: new Date().toISOString(),
};

beforeAll(async () => {
  stack = await startStack({ workerEnv: { AUTOLAB_EMBEDDINGS_MODEL: 'hash-embed' } });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe('hybrid lesson retrieval (embeddings endpoint)', () => {
  it('embeds the lessons and the queries, keeps the vectors, and says which retrieval was used', async () => {
    const store = new LessonStore(stack.redis, new RedisKeys(stack.prefix));
    const [relevant] = await store.learn('test', [
      {
        kind: 'technique',
        text: 'Turning the single knob of a toy program after its first draft raised the score it reports.',
        tags: ['task:tuning'],
        evidence: [evidence],
        relation: null,
      },
      {
        kind: 'technique',
        text: 'Antithetic variates halved the variance of a Monte Carlo option price.',
        tags: ['task:simulation'],
        evidence: [{ ...evidence, runId: 'run_seeded2' }],
        relation: null,
      },
    ]);
    const run = await submitRun(stack, {
      goal: 'Estimate how a toy program’s reported score responds to turning its single knob.',
      model: 'hosts',
      maxIterations: 2,
      seeds: 0,
      ideation: { numIdeas: 1, reflections: 0 },
      review: { reviewers: 0 },
    });
    const { events } = await readSse(stack, run.id, { timeoutMs: 240_000 });
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'succeeded' } });
    const applied = events
      .filter((e: RunEvent) => e.type === 'lessons.applied')
      .map((e) => e.data as { lessonIds: string[]; retrieval: string });
    expect(applied.length).toBeGreaterThan(0);
    expect(applied.every((a) => a.retrieval === 'hybrid')).toBe(true);
    expect(applied.flatMap((a) => a.lessonIds)).toContain(relevant!.id);
    // The embeddings went to the configured model at the endpoint, and the lessons' vectors are kept by model.
    expect(stack.scripted.embeddingsCalls.length).toBeGreaterThan(0);
    expect(stack.scripted.embeddingsCalls.every((c) => c.model === 'hash-embed')).toBe(true);
    const vectors = await stack.redis.hlen(`${stack.prefix}:tenant:test:lesson-vectors:hash-embed`);
    expect(vectors).toBeGreaterThanOrEqual(2);
  }, 300_000);
});
