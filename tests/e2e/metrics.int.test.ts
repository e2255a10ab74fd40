import type { RunRecord } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

/**
 * Operators can see it: the API's /metrics (admin only) and a worker's (AUTOLAB_WORKER_METRICS_PORT) in Prometheus'
 * format, after one short run through the real stack. The worker's model-call count is the scripted server's; its
 * warm pool's hits and misses.
 */
const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?';

let stack: Stack;
let run: RunRecord;

/** The value of one sample line (`name{labels} value`), or null. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) return Number(match[3]);
  }
  return null;
}

describe('Prometheus metrics of the API and the workers', () => {
  beforeAll(async () => {
    stack = await startStack({ workerEnv: { AUTOLAB_WORKER_METRICS_PORT: '0', AUTOLAB_SANDBOX_WARM_POOL: '1' } });
    // The run's first experiment takes the warm sandbox: wait until there is one.
    for (let tries = 0; ; tries++) {
      const text = await (await fetch(stack.worker!.metricsUrl!)).text();
      if (sample(text, 'autolab_sandbox_pool_idle') === 1) break;
      if (tries > 600) throw new Error('the warm pool never filled');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const submitted = await submitRun(stack, {
      goal: GOAL,
      model: 'demo',
      maxIterations: 2,
      search: { numDrafts: 1 },
      seeds: 0,
      review: { reviewers: 1 },
    });
    run = await waitForStatus(stack, submitted.id, ['succeeded', 'failed', 'cancelled'], 300_000);
  }, 400_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('serves the API metrics to an admin only', async () => {
    expect((await fetch(`${stack.apiUrl}/metrics`)).status).toBe(401);
    const tenant = await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
    expect(tenant.status).toBe(403);
    const res = await fetch(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${stack.adminKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'autolab_queue_jobs', { state: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'autolab_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(sample(text, 'autolab_workers', { docker: 'ok' })).toBe(1);
    expect(sample(text, 'autolab_api_request_seconds_count', { route: '/v1/runs/:id', status: '200' })).toBeGreaterThan(
      0,
    );
    expect(sample(text, 'autolab_api_request_seconds_count', { route: '/metrics', status: '401' })).toBe(1);
  });

  it("serves a worker's: model calls as the model server counted them, experiments, the run's outcome", async () => {
    expect(run.status).toBe('succeeded');
    const url = stack.worker!.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const text = await (await fetch(url)).text();
    const calls = stack.scripted.callsFor(run.id).length;
    const counted = text
      .split('\n')
      .filter((l) => l.startsWith('autolab_model_call_seconds_count{') && l.includes('model="demo"'))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(counted).toBe(calls);
    expect(sample(text, 'autolab_model_tokens_total', { model: 'demo', kind: 'prompt' })).toBe(run.usage.promptTokens);
    expect(sample(text, 'autolab_model_tokens_total', { model: 'demo', kind: 'cached' })).toBe(run.usage.cachedTokens);
    const nodes =
      (sample(text, 'autolab_node_seconds_count', { outcome: 'ok' }) ?? 0) +
      (sample(text, 'autolab_node_seconds_count', { outcome: 'buggy' }) ?? 0);
    expect(nodes).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'autolab_runs_finished_total', { status: 'succeeded' })).toBe(1);
    expect(sample(text, 'autolab_worker_live_runs')).toBe(0);
    // The first experiment sandbox came from the warm pool, which refilled behind it.
    expect(sample(text, 'autolab_sandbox_pool_takes_total', { result: 'hit' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'autolab_sandbox_pool_takes_total', { result: 'miss' })).not.toBeNull();
  });
});
