import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from '@autolab/contracts';
import { evolveText, tokenSetSimilarity } from '@autolab/evolve';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type Stack, startStack, submitEvolveRun, waitForStatus } from '../stack.js';

/**
 * Evolve mode's novelty with an embeddings model (AUTOLAB_EMBEDDINGS_MODEL on the worker): a child is compared with
 * every program by embedding cosine at the scripted server's /v1/embeddings (which embeds words, so two programs that
 * differ only in their numbers are the same to it). The flat model's second distinct answer differs from its first
 * in one constant: by code tokens it is new, by embeddings it is a repeat, and it is rejected as one.
 */
let stack: Stack;

async function artifact(runId: string, path: string): Promise<string> {
  const res = await fetch(`${stack.apiUrl}/v1/runs/${runId}/artifacts/${path}`, {
    headers: { authorization: `Bearer ${stack.apiKey}` },
  });
  expect(res.status, path).toBe(200);
  return res.text();
}

beforeAll(async () => {
  stack = await startStack({ workerEnv: { AUTOLAB_EMBEDDINGS_MODEL: 'hash-embed' } });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('evolve mode with an embeddings model', () => {
  it('rejects a child whose embedding matches an existing program although its code tokens differ', async () => {
    const runId = await submitEvolveRun(stack, {
      model: 'evolve-flat',
      evolve: {
        generations: 3,
        population: 1,
        islands: 1,
        patchTypes: { diff: 0, rewrite: 1, crossover: 0 },
        metaInterval: 0,
      },
    });
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error).toBeNull();
    const events = (await readSse(stack, runId)).events;
    const rejected = events.filter(
      (e): e is Extract<RunEvent, { type: 'candidate.rejected' }> => e.type === 'candidate.rejected',
    );
    // The exact repeat (generation 2) and the one-constant change (generation 3): by tokens only the first would go.
    expect(rejected.length).toBeGreaterThanOrEqual(2);
    expect(rejected.some((e) => e.data.generation === 3)).toBe(true);
    expect(rejected.every((e) => e.data.measure === 'embedding')).toBe(true);
    expect(stack.scripted.embeddingsCalls.length).toBeGreaterThan(0);

    // The last rejected child is one constant away from the program it matched: by tokens it would have been new.
    const shrunk = await readFile(
      join(import.meta.dirname, '../../packages/testing/scenarios/evolve/shrunk-0.8.py'),
      'utf8',
    );
    const matched = rejected.find((e) => e.data.similarity > 0.999)!;
    const program = await artifact(runId, `evolve/candidates/${matched.data.similarTo}/program/program.py`);
    expect(evolveText(program)).toContain('0.9 * r');
    expect(tokenSetSimilarity(evolveText(program), shrunk)).toBeLessThan(0.99);
  }, 400_000);
});
