import type { RunEvent } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type Stack, startStack, submitRun } from '../stack.js';

/**
 * A model server that misbehaves mid-run, through a real worker: a request that is never answered, a 200 whose body
 * is an HTML page, a reset connection and a truncated body (packages/testing/scenarios/faulty.yaml). Each is
 * retried with backoff within the worker's attempts and timeout, and the run succeeds as if nothing had happened.
 */
const TIMEOUT_SECONDS = 3;
let stack: Stack;

describe('model faults mid-run', () => {
  beforeAll(async () => {
    stack = await startStack({
      workerEnv: { AUTOLAB_LLM_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS), AUTOLAB_LLM_MAX_ATTEMPTS: '3' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('retries a hung request, a non-JSON 200, a reset connection and a truncated body; the run succeeds', async () => {
    const run = await submitRun(stack, {
      goal: 'How does standardizing the features affect the convergence of logistic regression trained by gradient descent?',
      model: 'faulty',
      maxIterations: 4,
      seeds: 0,
      search: { numDrafts: 1 },
      review: { reviewers: 1 },
    });
    const { events } = await readSse(stack, run.id, { timeoutMs: 300_000 });
    const final = events.at(-1) as RunEvent;
    expect(final.type).toBe('run.finished');
    expect(final.data, JSON.stringify(events.filter((e) => e.type === 'error'))).toMatchObject({
      status: 'succeeded',
    });

    const calls = stack.scripted.callsFor(run.id);
    const of = (key: string) => calls.filter((c) => c.key === key);
    // Each fault was met once and followed by the good answer, in order.
    expect(of('debug_experiment').map((c) => c.fault)).toEqual(['hang', 'not-json', null]);
    expect(of('write_plot_code').map((c) => c.fault)).toEqual(['reset', 'truncated', null]);
    // The hung request was given up after the client's timeout, not before.
    const [hung, afterHang] = of('debug_experiment');
    expect(afterHang!.at - hung!.at).toBeGreaterThanOrEqual(TIMEOUT_SECONDS * 1000 - 100);

    // The retried answer became the node: n002 is the demo's fix, and it worked.
    const finished = events.filter((e) => e.type === 'node.finished').map((e) => e.data as Record<string, unknown>);
    expect(finished.find((n) => n.nodeId === 'n002')).toMatchObject({ buggy: false });
    // A transport fault is not the model's fault: no "unusable answer" was counted for it.
    const malformed = events.filter(
      (e) => e.type === 'error' && (e.data as { code: string }).code === 'malformed_model_reply',
    );
    expect(malformed).toEqual([]);
    expect(events.some((e) => e.type === 'figure.created' || e.type === 'paper.ready')).toBe(true);
  });
});
