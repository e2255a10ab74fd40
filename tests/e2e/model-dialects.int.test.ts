import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

/**
 * The demo through the real stack (API → BullMQ → worker → scripted model over HTTP → Docker) with models that do
 * not make native tool calls, in the default `auto` mode: a server that answers `400 … does not support tools`, and
 * a model that writes its calls as fenced JSON with prose around it. Both runs succeed in text mode, the manifest
 * says so, Redis remembers it, and the next run of the same endpoint and model starts in text mode (the scripted
 * server counts the requests that offered tools).
 */
const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?';
const SMALL = { goal: GOAL, maxIterations: 3, search: { numDrafts: 1 }, seeds: 0, review: { reviewers: 0 } };

let stack: Stack;

async function runToEnd(model: string): Promise<RunRecord> {
  const submitted = await submitRun(stack, { ...SMALL, model });
  return waitForStatus(stack, submitted.id, ['succeeded', 'failed', 'cancelled'], 300_000);
}

async function manifestOf(run: RunRecord): Promise<{ model: string; modelMode: string }> {
  return JSON.parse(await readFile(join(stack.dataDir, 'artifacts', run.id, 'manifest.json'), 'utf8'));
}

describe('models without native tool calls, in auto mode, end to end', () => {
  let refusing: RunRecord;
  let fenced: RunRecord;

  beforeAll(async () => {
    stack = await startStack({ workerEnv: { AUTOLAB_WORKER_CONCURRENCY: '4' } });
    [refusing, fenced] = await Promise.all([runToEnd('demo@no-tools'), runToEnd('demo@fenced')]);
  }, 400_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('a server that refuses tools: the run succeeds in text mode after one 400', async () => {
    expect(refusing.error).toBeNull();
    expect(refusing.status).toBe('succeeded');
    expect(await manifestOf(refusing)).toMatchObject({ model: 'demo@no-tools', modelMode: 'text' });
    const calls = stack.scripted.callsFor(refusing.id);
    // The first request offered tools and was refused; every later one was a text-mode request.
    expect(calls[0]).toMatchObject({ offeredTools: true, completionTokens: 0 });
    expect(calls.slice(1).every((c) => !c.offeredTools)).toBe(true);
    // The 400 is no model call: the run counted only the completions.
    expect(refusing.usage.calls).toBe(calls.length - 1);
  });

  it('a model that writes fenced JSON with prose: the run succeeds, its first reply already used', async () => {
    expect(fenced.error).toBeNull();
    expect(fenced.status).toBe('succeeded');
    expect(await manifestOf(fenced)).toMatchObject({ modelMode: 'text' });
    const calls = stack.scripted.callsFor(fenced.id);
    expect(calls.filter((c) => c.offeredTools)).toHaveLength(1);
    expect(fenced.usage.calls).toBe(calls.length);
  });

  it('remembers the mode in Redis: the next run of the same model starts in text mode', async () => {
    // Each value is "<mode> <epoch ms when found>" (it expires after AUTOLAB_MODEL_MODE_TTL_HOURS).
    const remembered = await stack.redis.hvals(`${stack.prefix}:model-modes`);
    expect(remembered.map((value) => value.split(' ')[0]).sort()).toEqual(['text', 'text']);
    const again = await runToEnd('demo@no-tools');
    expect(again.status).toBe('succeeded');
    expect(await manifestOf(again)).toMatchObject({ modelMode: 'text' });
    const calls = stack.scripted.callsFor(again.id);
    expect(calls.length).toBeGreaterThan(5);
    expect(calls.filter((c) => c.offeredTools)).toEqual([]);
  }, 300_000);

  // The other dialects, each a short run through the whole stack (docs/models.md measures the full demo in each).
  const OTHERS = {
    tools: 'tools',
    'content-json': 'text',
    'tool-tags': 'text',
    'json-schema': 'tools',
    'code-fenced': 'text',
    'near-json': 'text',
    truncated: 'tools',
    'no-usage': 'tools',
  } as const;
  it(`succeeds in every other dialect too: ${Object.keys(OTHERS).join(', ')}`, async () => {
    const runs = await Promise.all(
      Object.keys(OTHERS).map(async (dialect) => {
        const submitted = await submitRun(stack, { ...SMALL, maxIterations: 2, model: `demo@${dialect}` });
        return waitForStatus(stack, submitted.id, ['succeeded', 'failed', 'cancelled'], 400_000);
      }),
    );
    for (const [i, [dialect, mode]] of Object.entries(OTHERS).entries()) {
      const run = runs[i]!;
      expect({ dialect, status: run.status, error: run.error }).toEqual({ dialect, status: 'succeeded', error: null });
      expect({ dialect, mode: (await manifestOf(run)).modelMode }).toEqual({ dialect, mode });
      const calls = stack.scripted.callsFor(run.id);
      // Every completion counted once; a cut-off reply is one more call (asked again with a larger limit).
      expect({ dialect, calls: run.usage.calls }).toEqual({ dialect, calls: calls.length });
      if (dialect === 'truncated') expect(calls.filter((c) => c.truncated).length).toBeGreaterThan(0);
      if (dialect === 'no-usage') {
        // No usage reported: every token is the worker's own count, within 3 % of what the server counted.
        const counted = calls.reduce((sum, c) => sum + c.promptTokens + c.completionTokens, 0);
        expect(run.usage.estimatedTokens).toBe(run.usage.totalTokens);
        expect(Math.abs(run.usage.totalTokens - counted) / counted).toBeLessThan(0.03);
      } else {
        expect({ dialect, estimated: run.usage.estimatedTokens }).toEqual({ dialect, estimated: 0 });
      }
    }
  }, 450_000);
});
