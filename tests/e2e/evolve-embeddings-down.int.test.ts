import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunEvent } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type Stack, startStack, submitEvolveRun, TEST_API_KEY, waitForStatus } from '../stack.js';

/**
 * Evolve mode with an embeddings model whose endpoint fails (docs/evolve.md): a real HTTP server that answers every
 * /v1/embeddings request with a 500 whose message echoes the request's Authorization header, as a misconfigured
 * proxy does. The run must go on measuring novelty by code tokens — the flat model's exact repeat is still rejected —
 * with one `embeddings_unavailable` warning, and the key the worker sent must not appear in that warning (or in any
 * other event).
 */
const EMBEDDINGS_KEY = `sk-embeddings-must-not-leak-${randomBytes(12).toString('hex')}`;
let stack: Stack;
let failing: Server;
const requests: { url: string; authorization: string }[] = [];

beforeAll(async () => {
  failing = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const authorization = req.headers.authorization ?? '';
      requests.push({ url: req.url ?? '', authorization });
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `upstream embedder crashed (request had ${authorization})` } }));
    });
  });
  failing.listen(0, '127.0.0.1');
  await once(failing, 'listening');
  const port = (failing.address() as AddressInfo).port;
  stack = await startStack({
    workerEnv: {
      AUTOLAB_EMBEDDINGS_MODEL: 'hash-embed',
      AUTOLAB_MODEL_ENDPOINTS: JSON.stringify({
        'hash-embed': { baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: EMBEDDINGS_KEY },
      }),
      // Two attempts per call keep the client's backoff short.
      AUTOLAB_LLM_MAX_ATTEMPTS: '2',
    },
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  failing?.close();
});

describe('evolve mode when the embeddings endpoint fails', () => {
  it('falls back to code tokens with one warning that does not show the key', async () => {
    const runId = await submitEvolveRun(stack, {
      model: 'evolve-flat',
      evolve: {
        generations: 3,
        population: 2,
        islands: 1,
        patchTypes: { diff: 0, rewrite: 1, crossover: 0 },
        metaInterval: 0,
      },
    });
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');
    const events = (await readSse(stack, runId)).events;

    // The endpoint was really asked (with the key), and failed.
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.url.endsWith('/embeddings') && r.authorization === `Bearer ${EMBEDDINGS_KEY}`)).toBe(
      true,
    );
    const warnings = events
      .filter((e) => e.type === 'warning')
      .map((e) => ({ message: e.message, ...(e.data as { code: string; detail: string }) }));
    const unavailable = warnings.filter((w) => w.code === 'embeddings_unavailable');
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]!.detail).toMatch(/500/);
    for (const secret of [EMBEDDINGS_KEY, TEST_API_KEY]) {
      expect(JSON.stringify(unavailable[0])).not.toContain(secret);
      expect(JSON.stringify(events)).not.toContain(secret);
    }

    // Novelty by code tokens: the flat model's exact repeat is rejected, and no rejection claims embeddings.
    const rejected = events.filter(
      (e): e is Extract<RunEvent, { type: 'candidate.rejected' }> => e.type === 'candidate.rejected',
    );
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect(rejected.every((e) => e.data.measure === 'tokens')).toBe(true);
    expect(rejected.some((e) => e.data.similarity >= 0.999)).toBe(true);
  }, 400_000);
});
