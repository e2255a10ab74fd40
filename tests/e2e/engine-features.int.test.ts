import type { LessonEvidence, RunEvent, RunRecord } from '@autolab/contracts';
import { LessonStore, RedisKeys } from '@autolab/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, submitRun } from '../stack.js';

/**
 * Engine behaviours through the real stack (API → queue → worker → scripted model over HTTP → Docker → LaTeX):
 * budget exhaustion going on to the writeup, a LaTeX error fixed on the second attempt, parallel nodes, flat
 * prompt size over a long run, an unreachable literature search, and prefix-cache hits priced at the cached rate.
 */
let stack: Stack;
const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by gradient descent?';
const small = { search: { numDrafts: 1 }, seeds: 0, review: { reviewers: 1 } };

async function runToEnd(body: Record<string, unknown>): Promise<{ run: RunRecord; events: RunEvent[] }> {
  const submitted = await submitRun(stack, body);
  const { events } = await readSse(stack, submitted.id, { timeoutMs: 400_000 });
  const run = (await api<RunRecord>(stack, `/v1/runs/${submitted.id}`)).body;
  return { run, events };
}

const ofType = (events: RunEvent[], type: string) => events.filter((e) => e.type === type);

describe('engine features end to end', () => {
  beforeAll(async () => {
    // A price for the scripted models, so that cost and budgets are real numbers: $20 per million tokens. The API
    // needs it too: it refuses a USD budget for a model without a price.
    const prices = JSON.stringify({
      demo: { inputPerMTok: 20, outputPerMTok: 20 },
      'latex-fix': { inputPerMTok: 20, outputPerMTok: 20 },
      // The demo in the native dialect, with a cached rate: prefix-cache hits cost a tenth.
      'demo@tools': { inputPerMTok: 20, cachedInputPerMTok: 2, outputPerMTok: 20 },
    });
    stack = await startStack({
      apiEnv: { AUTOLAB_MODEL_PRICES: prices },
      workerEnv: {
        AUTOLAB_MODEL_PRICES: prices,
        // Nothing listens there: the literature search is unreachable.
        AUTOLAB_SEMANTIC_SCHOLAR_URL: 'http://127.0.0.1:9',
        AUTOLAB_OPENALEX_URL: 'http://127.0.0.1:9',
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stops experimenting when the budget share is spent and still writes the paper, never more than one call over', async () => {
    const { run, events } = await runToEnd({ goal: GOAL, model: 'demo', maxIterations: 20, budgetUsd: 0.25, ...small });
    expect(run.status).toBe('succeeded');
    const stop = ofType(events, 'stage.finished').find((e) => (e.data as { stage: string }).stage === 'experiments')!;
    expect((stop.data as { reason: string }).reason).toMatch(/budget/);
    expect(run.iteration).toBeLessThan(20);
    const costs = ofType(events, 'cost.updated').map((e) => (e.data as { costUsd: number }).costUsd);
    expect(run.usage.costUsd).toBeLessThanOrEqual(0.25 + Math.max(...costs));
    expect(ofType(events, 'paper.ready')).toHaveLength(1);
  });

  it('feeds a LaTeX error back to the model and compiles its fix on the second attempt', async () => {
    const { run, events } = await runToEnd({ goal: GOAL, model: 'latex-fix', maxIterations: 4, ...small });
    expect(run.status).toBe('succeeded');
    const failed = ofType(events, 'paper.compile_failed');
    expect(failed).toHaveLength(1);
    expect((failed[0]!.data as { errorTail: string }).errorTail).toMatch(/Undefined control sequence/);
    expect(ofType(events, 'paper.ready')[0]!.data).toMatchObject({ attempt: 2, fallback: false });
    expect(stack.scripted.callsFor(run.id).filter((c) => c.key === 'fix_latex')).toHaveLength(1);
  });

  it('goes on without citations when the literature search is unreachable', async () => {
    const { run, events } = await runToEnd({ goal: GOAL, model: 'demo', maxIterations: 3, ...small });
    expect(run.status).toBe('succeeded');
    const warning = ofType(events, 'warning').find(
      (e) => (e.data as { code: string }).code === 'literature_unavailable',
    );
    expect(warning).toBeDefined();
    const artifacts = (await api<{ artifacts: { path: string }[] }>(stack, `/v1/runs/${run.id}/artifacts`)).body
      .artifacts;
    expect(artifacts.map((a) => a.path)).not.toContain('paper/references.bib');
  });

  it("reads the provider's prefix-cache hits, prices them at the cached rate and shows the share on the record", async () => {
    // Three reviewers read the same paper first: the second and third hit the (simulated) cache.
    const { run, events } = await runToEnd({
      goal: GOAL,
      model: 'demo@tools',
      maxIterations: 3,
      search: { numDrafts: 1 },
      seeds: 0,
      review: { reviewers: 3 },
    });
    expect(run.status).toBe('succeeded');
    const served = stack.scripted.callsFor(run.id);
    const cachedByServer = served.reduce((sum, c) => sum + c.cachedTokens, 0);
    expect(cachedByServer).toBeGreaterThan(2 * 1024);
    expect(run.usage.cachedTokens).toBe(cachedByServer);
    expect(run.usage.estimatedTokens).toBe(0);
    const costs = ofType(events, 'cost.updated').map(
      (e) => e.data as { promptTokens: number; completionTokens: number; cachedTokens: number; costUsd: number },
    );
    expect(costs.reduce((sum, c) => sum + c.cachedTokens, 0)).toBe(cachedByServer);
    for (const c of costs) {
      const expected = ((c.promptTokens - c.cachedTokens) * 20 + c.cachedTokens * 2 + c.completionTokens * 20) / 1e6;
      expect(c.costUsd).toBeCloseTo(expected, 10);
    }
  });

  it('evaluates several nodes of one run in parallel, each in its own sandbox', async () => {
    const { run, events } = await runToEnd({
      goal: GOAL,
      model: 'demo',
      maxIterations: 6,
      search: { numDrafts: 2, nodeConcurrency: 2 },
      seeds: 0,
      review: { reviewers: 1 },
    });
    expect(run.status).toBe('succeeded');
    let running = 0;
    let most = 0;
    for (const e of events) {
      if (e.type === 'node.created') most = Math.max(most, ++running);
      if (e.type === 'node.finished') running--;
    }
    expect(most).toBe(2);
  });

  it('keeps the prompt flat over a long run with a library of 1,000 lessons: iteration 40 costs at most 1.5× iteration 5', async () => {
    // A thousand lessons of this tenant about the very subject of the run: the block that reaches the prompts is
    // bounded (at most 5 lessons, AUTOLAB_LESSONS_PROMPT_TOKENS), however large the library.
    const evidence = (i: number): LessonEvidence => ({
      runId: `run_seeded${i}`,
      nodeId: 'n002',
      parentNodeId: 'n001',
      stance: 'supports',
      metric: 'final_loss',
      before: null,
      after: 0.3,
      error: null,
      results: null,
      recordedAt: new Date().toISOString(),
    });
    await new LessonStore(stack.redis, new RedisKeys(stack.prefix)).learn(
      'test',
      Array.from({ length: 1000 }, (_, i) => ({
        kind: (['pitfall', 'technique', 'setting'] as const)[i % 3]!,
        text: `Mini-batch gradient descent for logistic regression on badly scaled features: variant ${i} used learning rate ${(i + 1) / 1000}, momentum ${(i % 10) / 10} and batch size ${8 << (i % 6)}.`,
        tags: ['task:classification', 'lib:numpy'],
        evidence: [evidence(i)],
        relation: null,
      })),
    );
    const { run } = await runToEnd({
      goal: GOAL,
      model: 'long',
      maxIterations: 44,
      search: { numDrafts: 1 },
      seeds: 0,
      review: { reviewers: 0 },
      timeLimitMinutes: 30,
    });
    expect(run.status).toBe('succeeded');
    const experimentCalls = stack.scripted.callsFor(run.id).filter((c) => /_experiment$/.test(c.key));
    expect(experimentCalls.length).toBeGreaterThanOrEqual(40);
    const at5 = experimentCalls[4]!.promptTokens;
    const at40 = experimentCalls[39]!.promptTokens;
    expect(at40 / at5).toBeLessThanOrEqual(1.5);
    const withLessons = experimentCalls.filter((c) => c.lessonIds.length > 0);
    expect(withLessons.length).toBeGreaterThan(0);
    for (const call of experimentCalls) expect(call.lessonIds.length).toBeLessThanOrEqual(5);
  }, 300_000);
});
