import type { Hint, RunEvent, RunRecord } from '@autolab/contracts';
import { type FakeLiteratureServer, startFakeLiteratureServer } from '@autolab/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, authHeaders, readSse, type Stack, startStack, submitRun } from '../stack.js';

/**
 * The worker's literature search against a local fake of Semantic Scholar and OpenAlex (real HTTP, real response
 * shapes), and hints from a person reaching the model's prompt, through the real stack.
 */
let stack: Stack;
let literature: FakeLiteratureServer;
const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by gradient descent?';
const small = { maxIterations: 3, search: { numDrafts: 1 }, seeds: 0, review: { reviewers: 1 } };

const ofType = (events: RunEvent[], type: string) => events.filter((e) => e.type === type);

async function artifact(runId: string, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${stack.apiUrl}/v1/runs/${runId}/artifacts/${path}`, { headers: authHeaders(stack) });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  literature = await startFakeLiteratureServer();
  stack = await startStack({
    workerEnv: {
      AUTOLAB_SEMANTIC_SCHOLAR_URL: literature.semanticScholarUrl,
      AUTOLAB_OPENALEX_URL: literature.openAlexUrl,
      SEMANTIC_SCHOLAR_API_KEY: 's2-key-that-must-stay-out-of-the-transcript',
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await literature?.close();
});

describe('literature search', () => {
  it('checks the ideas against the literature and cites only papers the search returned', async () => {
    const submitted = await submitRun(stack, { goal: GOAL, model: 'literature', ...small });
    const { events } = await readSse(stack, submitted.id, { timeoutMs: 300_000 });
    const run = (await api<RunRecord>(stack, `/v1/runs/${submitted.id}`)).body;
    expect(run.status).toBe('succeeded');

    const searches = ofType(events, 'literature.searched').map((e) => e.data as { source: string; count: number });
    expect(searches.length).toBeGreaterThan(0);
    expect(searches.some((s) => s.count > 0)).toBe(true);
    expect(literature.requests.length).toBeGreaterThan(0);
    expect(literature.requests.filter((r) => r.path.includes('semantic-scholar')).every((r) => r.apiKey)).toBe(true);
    expect(ofType(events, 'warning').map((e) => (e.data as { code: string }).code)).not.toContain(
      'literature_unavailable',
    );
    expect((ofType(events, 'idea.chosen')[0]!.data as { references: number }).references).toBeGreaterThan(0);

    const bib = await artifact(run.id, 'paper/references.bib');
    expect(bib.status).toBe(200);
    const bibKeys = [...bib.text.matchAll(/^@\w+\{([^,]+),/gm)].map((m) => m[1]);
    expect(bibKeys).toEqual(expect.arrayContaining(['lecun1998efficient', 'bottou2018optimization']));
    // Every entry is a paper the fake returned: its corpus holds only real, published records.
    expect(bib.text).toContain('Efficient BackProp');
    const tex = (await artifact(run.id, 'paper/paper.tex')).text;
    const cited = [...tex.matchAll(/\\cite\{([^}]+)\}/g)].flatMap((m) => m[1]!.split(',').map((k) => k.trim()));
    expect(cited.length).toBeGreaterThan(0);
    for (const key of cited) expect(bibKeys).toContain(key);

    const transcript = (await artifact(run.id, 'transcript.jsonl')).text;
    expect(transcript).not.toContain('s2-key-that-must-stay-out-of-the-transcript');
  });
});

describe('hints', () => {
  it('folds a hint sent to a live run into the next prompt and says where', async () => {
    const submitted = await submitRun(stack, { goal: GOAL, model: 'demo', ...small });
    const text = 'Report the condition number of the Hessian next to every loss.';
    const sent = await api<Hint>(stack, `/v1/runs/${submitted.id}/hints`, {
      method: 'POST',
      body: JSON.stringify({ text }),
    });
    expect(sent.status).toBe(202);
    const { events } = await readSse(stack, submitted.id, { timeoutMs: 300_000 });
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'succeeded' } });

    const applied = ofType(events, 'hint.applied');
    expect(applied).toHaveLength(1);
    const { hintId, step } = applied[0]!.data as { hintId: string; step: string };
    expect(hintId).toBe(sent.body.id);
    const received = events.findIndex((e) => e.type === 'hint.received');
    expect(received).toBeGreaterThanOrEqual(0);
    expect(events.indexOf(applied[0]!)).toBeGreaterThan(received);

    const hint = (await api<{ hints: Hint[] }>(stack, `/v1/runs/${submitted.id}/hints`)).body.hints[0]!;
    expect(hint.appliedTo).toBe(step);
    expect(hint.appliedAt).toEqual(expect.any(String));
    // The model really saw it: the prompts after it carry the text.
    const prompts = (await artifact(submitted.id, 'transcript.jsonl')).text
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { prompt: string }).prompt);
    expect(prompts.filter((p) => p.includes(text)).length).toBeGreaterThan(0);
  });
});
