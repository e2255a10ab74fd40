import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorBody, RunRecord } from '@autolab/contracts';
import { type ScriptedCall, type ScriptedServer, startScriptedServer } from '@autolab/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, SCENARIO_DIR, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

/**
 * A model per role through the real stack: the run names `demo` for every role but judge and review, which it gives
 * to `demo-judge`, a model the worker's AUTOLAB_MODEL_ENDPOINTS places at a second scripted server with its own key,
 * an Azure-style `api-key` header and `api-version` query. Each server counts what it was asked: the judge server
 * sees only execution reviews, tie-breaks, paper reviews and the meta-review, the default server everything else;
 * each call is priced at its own model's price; no key reaches the transcript.
 */
const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?';
const JUDGE_KEY = 'sk-judge-endpoint-key-that-must-never-leak-42';
const AZURE_HEADER = 'azure-style-api-key-that-must-never-leak-43';
const PRICES = {
  demo: { inputPerMTok: 1, outputPerMTok: 2 },
  'demo-judge': { inputPerMTok: 30, outputPerMTok: 60 },
};
const JUDGE_TOOLS = ['review_execution', 'choose_best', 'submit_review', 'submit_meta_review'];

let stack: Stack;
let judgeServer: ScriptedServer;
let run: RunRecord;

const costOf = (calls: ScriptedCall[], model: keyof typeof PRICES) =>
  calls.reduce(
    (sum, c) =>
      sum + (c.promptTokens * PRICES[model].inputPerMTok + c.completionTokens * PRICES[model].outputPerMTok) / 1e6,
    0,
  );

describe('a model per role, each at its own endpoint, end to end', () => {
  beforeAll(async () => {
    judgeServer = await startScriptedServer({ scenarioDirs: [SCENARIO_DIR] });
    stack = await startStack({
      workerEnv: {
        AUTOLAB_MODEL_PRICES: JSON.stringify(PRICES),
        AUTOLAB_MODEL_ENDPOINTS: JSON.stringify({
          'demo-judge': {
            baseUrl: judgeServer.baseUrl,
            apiKey: JUDGE_KEY,
            headers: { 'api-key': AZURE_HEADER },
            query: { 'api-version': '2024-10-21' },
          },
        }),
      },
      apiEnv: { AUTOLAB_MODEL_PRICES: JSON.stringify(PRICES) },
    });
    const submitted = await submitRun(stack, {
      goal: GOAL,
      maxIterations: 4,
      search: { numDrafts: 1 },
      seeds: 0,
      review: { reviewers: 1 },
      models: { judge: 'demo-judge', review: 'demo-judge' },
    });
    expect(submitted.models).toEqual({
      code: 'demo',
      judge: 'demo-judge',
      writeup: 'demo',
      review: 'demo-judge',
      ideas: 'demo',
      vision: null,
    });
    run = await waitForStatus(stack, submitted.id, ['succeeded', 'failed', 'cancelled'], 300_000);
  }, 400_000);

  afterAll(async () => {
    await stack?.close();
    await judgeServer?.close();
  });

  it('sends each role to its model: judge and review calls to the second server, the rest to the default one', () => {
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    const judged = judgeServer.callsFor(run.id);
    const other = stack.scripted.callsFor(run.id);
    expect(judged.length).toBeGreaterThanOrEqual(3);
    expect(new Set(judged.map((c) => c.key))).toEqual(
      new Set(judged.map((c) => c.key).filter((k) => JUDGE_TOOLS.includes(k))),
    );
    expect(judged.map((c) => c.key)).toEqual(expect.arrayContaining(['review_execution', 'submit_review']));
    expect(judged.every((c) => c.model === 'demo-judge')).toBe(true);
    expect(other.length).toBeGreaterThan(5);
    expect(other.filter((c) => JUDGE_TOOLS.includes(c.key))).toEqual([]);
    expect(other.every((c) => c.model === 'demo')).toBe(true);
    expect(run.usage.calls).toBe(judged.length + other.length);
  });

  it("sends the endpoint's own headers and query to it, and only to it", () => {
    const judged = judgeServer.callsFor(run.id);
    expect(judged.every((c) => c.apiKeyHeader && c.query['api-version'] === '2024-10-21')).toBe(true);
    const other = stack.scripted.callsFor(run.id);
    expect(other.some((c) => c.apiKeyHeader || 'api-version' in c.query)).toBe(false);
  });

  it("prices each call at its model's price", () => {
    const expected =
      costOf(judgeServer.callsFor(run.id), 'demo-judge') + costOf(stack.scripted.callsFor(run.id), 'demo');
    expect(run.usage.costUsd).toBeCloseTo(expected, 6);
  });

  it('records the models in the manifest, and keeps every endpoint credential out of the transcript', async () => {
    const dir = join(stack.dataDir, 'artifacts', run.id);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.models).toMatchObject({ code: 'demo', judge: 'demo-judge', review: 'demo-judge' });
    expect(manifest.modelModes).toEqual({ demo: 'tools', 'demo-judge': 'tools' });
    const transcript = await readFile(join(dir, 'transcript.jsonl'), 'utf8');
    const models = transcript
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { purpose: string; model: string });
    expect(models.filter((m) => m.model === 'demo-judge').map((m) => m.purpose)).toEqual(
      expect.arrayContaining(['judge', 'review']),
    );
    for (const secret of [JUDGE_KEY, AZURE_HEADER]) expect(transcript).not.toContain(secret);
  });
});

describe('a USD budget binds only runs whose models all have a price', () => {
  let apiOnly: Stack;
  beforeAll(async () => {
    apiOnly = await startStack({
      worker: false,
      apiEnv: {
        AUTOLAB_MODEL_PRICES: JSON.stringify(PRICES),
        AUTOLAB_MODEL_JUDGE: 'local-judge',
        AUTOLAB_MODEL_VISION: 'seer',
      },
    });
  });
  afterAll(async () => {
    await apiOnly?.close();
  });

  it('refuses a budget for a run with an unpriced model, naming the model and the setting', async () => {
    const refused = await api<ErrorBody>(apiOnly, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ goal: GOAL, model: 'demo', models: { judge: 'local-judge' }, budgetUsd: 2 }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('validation_failed');
    expect(refused.body.error.message).toMatch(
      /budgetUsd: a budget in USD cannot bind: no price is known for "local-judge"/,
    );
    expect(refused.body.error.message).toContain('AUTOLAB_MODEL_PRICES');
    expect(refused.body.error.details).toMatchObject({ issues: [{ path: 'budgetUsd', in: 'body' }] });
  });

  it('gives such a run no USD budget when it asks for none, and priced runs the default of $5', async () => {
    // No model named: the server's defaults, a judge without a price among them.
    const unpriced = await submitRun(apiOnly, { goal: GOAL, maxTokens: 100_000 });
    expect(unpriced.budgetUsd).toBeNull();
    expect(unpriced.models).toMatchObject({ judge: 'local-judge', code: 'demo', vision: 'seer' });
    // The run's own model beats the server's per-role defaults; vision is never inferred from it.
    const priced = await submitRun(apiOnly, { goal: GOAL, model: 'demo', models: { vision: null } });
    expect(priced.budgetUsd).toBe(5);
    expect(priced.models).toEqual({
      code: 'demo',
      judge: 'demo',
      writeup: 'demo',
      review: 'demo',
      ideas: 'demo',
      vision: null,
    });
    const read = await api<RunRecord>(apiOnly, `/v1/runs/${unpriced.id}`);
    expect(read.body.budgetUsd).toBeNull();
  });

  it('validates model names per role', async () => {
    const bad = await api<ErrorBody>(apiOnly, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ goal: GOAL, models: { judge: '../etc/passwd', planner: 'demo' } }),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toMatch(/models/);
  });
});
