import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVOLVE_ARTIFACTS, type EvolveDatabaseFile, type NewEvent, type RunRecord } from '@autolab/contracts';
import { LocalArtifactStore } from '@autolab/store';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebIfStale, CHROMIUM, launchChromium, type PageTrouble, watchPage } from '../chromium.js';
import { expectInert, HOSTILE, PAYLOADS } from '../hostile-text.js';
import { api, appendWorkerEvents, type Stack, startStack, submitRun, uploadFiles } from '../stack.js';

/**
 * The run page of an evolve run in Chromium, against the real API, run store and artifact store, without a worker:
 * the events and files are the ones an evolve worker writes (events checked by the contracts' schema). The database
 * file holds generation 0 only; generation 1 is in the events, as while a run is live. Everything the models write
 * (summaries, errors, the bandit's reason, recommendations, a diff) carries hostile text that must stay text. A
 * screenshot goes to test-output/screenshots/evolve-run.png.
 */
const summary = (id: string, generation: number, island: number, parentIds: string[], model: string | null) => ({
  candidateId: id,
  generation,
  island,
  parentIds,
  origin: parentIds.length === 0 ? 'initial' : 'diff',
  model,
});
const evaluated = (
  id: string,
  generation: number,
  island: number,
  status: 'evaluated' | 'incorrect',
  score: number | null,
) => ({
  candidateId: id,
  generation,
  island,
  status,
  score,
  metrics: score === null ? {} : { score },
  error: status === 'incorrect' ? `circles overlap ${HOSTILE}` : null,
  durationMs: 800,
  improved: status === 'evaluated' && generation > 0,
});
const stats = [
  { model: 'evolve-good', pulls: 1, improvements: 1, costUsd: 0.001, score: 1.5 },
  { model: `evolve-flat ${PAYLOADS[1]}`, pulls: 1, improvements: 0, costUsd: 0.001, score: 0.4 },
];

function evolveEvents(): NewEvent[] {
  const event = (type: string, data: Record<string, unknown>) =>
    ({ type, message: `${type} ${HOSTILE}`, data }) as unknown as NewEvent;
  return [
    event('run.started', { attempt: 1, worker: 'evolve-test', resumedAt: null }),
    event('stage.started', { stage: 'experiments' }),
    event('candidate.created', { ...summary('c000', 0, 0, [], null), summary: 'The uploaded program.' }),
    event('candidate.evaluated', evaluated('c000', 0, 0, 'evaluated', 0.9)),
    event('generation.finished', {
      generation: 0,
      bestCandidateId: 'c000',
      bestScore: 0.9,
      evaluated: 1,
      incorrect: 0,
      failed: 0,
      rejected: 0,
    }),
    event('models.allocated', { generation: 1, model: 'evolve-good', reason: `untried first ${HOSTILE}`, stats }),
    event('candidate.created', {
      ...summary('c001', 1, 0, ['c000'], 'evolve-good'),
      summary: `Grow the radii ${HOSTILE}`,
    }),
    event('candidate.created', {
      ...summary('c002', 1, 1, ['c000'], 'evolve-good'),
      summary: `Hexagonal lattice ${HOSTILE}`,
    }),
    event('candidate.rejected', {
      ...summary('c003', 1, 1, ['c000'], 'evolve-good'),
      similarTo: 'c002',
      similarity: 0.98,
      measure: 'tokens',
      threshold: 0.95,
      rejections: 1,
    }),
    event('candidate.evaluated', evaluated('c001', 1, 0, 'incorrect', null)),
    event('candidate.evaluated', evaluated('c002', 1, 1, 'evaluated', 1.5)),
    event('metric.improved', {
      nodeId: 'c002',
      iteration: 1,
      name: 'score',
      value: 1.5,
      previous: 0.9,
      direction: 'maximize',
    }),
    event('generation.finished', {
      generation: 1,
      bestCandidateId: 'c002',
      bestScore: 1.5,
      evaluated: 1,
      incorrect: 1,
      failed: 0,
      rejected: 1,
    }),
    event('islands.migrated', { generation: 1, moves: [{ from: 1, to: 0, candidateId: 'c002' }] }),
    event('recommendations.updated', {
      generation: 1,
      recommendations: [{ text: `Lattices beat grids ${HOSTILE}`, candidateIds: ['c002', 'c001'] }],
    }),
  ];
}

/** evolve/database.json as written after generation 0. */
const DATABASE: EvolveDatabaseFile = {
  direction: 'maximize',
  program: 'program.py',
  generation: 0,
  candidates: [
    {
      ...summary('c000', 0, 0, [], null),
      origin: 'initial',
      status: 'evaluated',
      score: 0.9,
      metrics: { score: 0.9 },
      error: null,
      summary: 'The uploaded program.',
      children: 0,
      durationMs: 800,
      similarTo: null,
      similarity: null,
    },
  ],
  islands: [['c000'], []],
  elites: ['c000'],
  best: 'c000',
  bestByGeneration: [{ generation: 0, candidateId: 'c000', score: 0.9 }],
  lineage: ['c000'],
  models: [],
  allocations: [],
  rejections: 0,
  recommendations: [],
};

const SHOTS = fileURLToPath(new URL('../../test-output/screenshots', import.meta.url));
const PROGRAM = 'def radii():\n    return [0.1] * 9\n';
const CHILD = `def radii():\n    # ${HOSTILE}\n    return [0.12] * 9\n`;
const PATCH = `--- a/program.py\n+++ b/program.py\n@@ -1,2 +1,3 @@\n def radii():\n-    return [0.1] * 9\n+    # ${HOSTILE}\n+    return [0.12] * 9\n`;

describe.skipIf(!existsSync(CHROMIUM))('an evolve run on the dashboard (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let runId = '';
  let trouble: PageTrouble;

  beforeAll(async () => {
    buildWebIfStale();
    stack = await startStack({ worker: false });
    const code = (await uploadFiles(stack, { 'program.py': PROGRAM })).id;
    const evaluator = (await uploadFiles(stack, { 'evaluate.py': 'import json\n' })).id;
    runId = (await submitRun(stack, { mode: 'evolve', evolve: { islands: 2 }, inputs: { code, evaluator } })).id;
    await appendWorkerEvents(stack, runId, evolveEvents());
    const artifacts = new LocalArtifactStore(join(stack.dataDir, 'artifacts'));
    await artifacts.put(runId, EVOLVE_ARTIFACTS.database, JSON.stringify(DATABASE));
    await artifacts.put(runId, EVOLVE_ARTIFACTS.program('c000', 'program.py'), PROGRAM);
    await artifacts.put(runId, EVOLVE_ARTIFACTS.program('c002', 'program.py'), CHILD);
    await artifacts.put(runId, EVOLVE_ARTIFACTS.patch('c002'), PATCH);

    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    trouble = watchPage(page);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the population by generation and island, the unscored on the axis, the counts', async () => {
    await page.goto(`${stack.apiUrl}/#key=${encodeURIComponent(stack.apiKey)}`);
    // The runs list marks it and counts its candidates (the record's iteration) instead of iterations of a search.
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/evolve.*\d+ candidates/);
    await page.goto(`${stack.apiUrl}/runs/${runId}`);
    const population = page.locator('[data-testid=population-card]');
    await population.locator('[data-testid=population-chart] canvas').first().waitFor({ timeout: 30_000 });
    expect(await population.locator('h2').textContent()).toBe('Population · 4 candidates');
    expect(await population.locator('[data-testid=population-summary]').textContent()).toContain(
      '1 generation finished · 2 scored · 1 incorrect · 0 failed · 1 rejected as too similar',
    );
    // Progress in generations (of the default 10) and the best score, the stages of an evolve run.
    // The most generations come with the run's record (read beside the events).
    await page.locator('[data-testid=iteration]', { hasText: '1 / 10' }).waitFor();
    expect(await page.locator('[data-testid=best-metric]').textContent()).toContain('1.5');
    expect(
      await page.locator('.stepper [data-stage]').evaluateAll((els) => els.map((e) => e.getAttribute('data-stage'))),
    ).toEqual(['experiments', 'writeup', 'done']);
    // The incorrect c001 is marked on the axis and listed under the chart.
    expect(await population.locator('[data-testid=population]').getAttribute('data-unscored')).toBe('1');
    expect(await population.locator('.chart-notes').textContent()).toContain('c001 (incorrect)');
    // One legend entry per island and the best so far.
    const legend = await population.locator('.u-legend .u-label').allTextContents();
    expect(legend).toEqual(['generation', 'island 0', 'island 1', 'best so far (max)']);
    await expectInert(page, 'population');
  });

  it("draws the genealogy with the best program's lineage, and the models and recommendations as text", async () => {
    const tree = page.locator('[data-testid=lineage-card] [data-testid=experiment-tree]');
    // Rejected candidates never ran: three nodes.
    expect(await tree.locator('[data-node-id]').count()).toBe(3);
    expect(
      await tree.locator('[data-lineage=true]').evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id'))),
    ).toEqual(['c000', 'c002']);
    expect(await tree.locator('[data-best=true]').getAttribute('data-node-id')).toBe('c002');
    const lineage = await page.locator('[data-testid=lineage] li').allTextContents();
    expect(lineage).toHaveLength(2);
    expect(lineage[1]).toContain(`Hexagonal lattice ${HOSTILE}`);
    const models = (await page.locator('[data-testid=evolve-models]').textContent()) ?? '';
    expect(models).toContain('1 child rejected as too similar');
    expect(models).toContain(`untried first ${HOSTILE}`);
    expect(models).toContain(PAYLOADS[1]);
    expect(await page.locator('[data-testid=recommendations]').textContent()).toContain(
      `Lattices beat grids ${HOSTILE} (from c002, c001)`,
    );
    await expectInert(page, 'lineage, models, recommendations');
  });

  it("opens a candidate's change, error, diff against its parent and program, all as text", async () => {
    const detail = page.locator('[data-testid=candidate-detail]');
    // A recommendation's cited candidate opens it.
    await page.locator('[data-testid=recommendations]').getByRole('button', { name: 'c001' }).click();
    await detail.waitFor();
    expect(await detail.locator('[data-testid=candidate-error]').textContent()).toBe(`circles overlap ${HOSTILE}`);
    expect(await detail.locator('[data-testid=candidate-summary]').textContent()).toBe(`Grow the radii ${HOSTILE}`);
    await expectInert(page, 'incorrect candidate');

    await page.locator('[data-testid=lineage-card] [data-node-id=c002]').click();
    await detail.getByText('Candidate c002').waitFor();
    await detail.getByRole('tab', { name: 'diff' }).click();
    const diff = detail.locator('[data-testid=candidate-diff]');
    await diff.waitFor();
    expect(await diff.locator('.diff-summary').textContent()).toBe('Against c000: +2 −1 lines');
    expect(await diff.locator('.diff-add').first().textContent()).toContain(`# ${HOSTILE}`);
    await detail.getByRole('tab', { name: 'program' }).click();
    expect(await detail.locator('[data-testid=candidate-program]').textContent()).toContain(`# ${HOSTILE}`);
    await expectInert(page, 'candidate diff and program');

    await page.screenshot({ path: join(SHOTS, 'evolve-run.png'), fullPage: true });
    // Its parent, from the facts: the initial program has no diff.
    await detail.getByRole('button', { name: 'c000' }).click();
    await detail.getByText('Candidate c000').waitFor();
    expect(await detail.getByRole('tab', { name: 'diff' }).count()).toBe(0);
  });

  it('shows the same after a reload, and fits a phone screen', async () => {
    await page.reload();
    await page.locator('[data-testid=lineage] li').nth(1).waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid=population-card] h2').textContent()).toBe('Population · 4 candidates');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('submits an evolve run from the form: program and evaluator required, its settings sent', async () => {
    await page.goto(`${stack.apiUrl}/new`);
    await page.getByRole('heading', { name: 'New run' }).waitFor();
    await page.getByRole('radio', { name: /Evolve/ }).check();
    // The research run's fields and files are gone; the goal is optional.
    expect(await page.locator('input[name=maxIterations], input[name=data], input[name=papers]').count()).toBe(0);
    await page.locator('input[name=generations]').fill('3');
    await page.locator('input[name=islands]').fill('99');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.getByRole('alert').waitFor();
    // Under each field, in the order the form shows them (the form checks these before it sends anything).
    expect(await page.locator('.field-invalid .field-error').allTextContents()).toEqual([
      'Enter a whole number from 1 to 16.',
      'Add the program to evolve.',
      'Add the evaluator (evaluate.py).',
    ]);
    await page.locator('input[name=islands]').fill('2');
    await page
      .locator('input[name=code]')
      .setInputFiles([{ name: 'program.py', mimeType: 'text/x-python', buffer: Buffer.from(PROGRAM) }]);
    await page
      .locator('input[name=evaluator]')
      .setInputFiles([{ name: 'evaluate.py', mimeType: 'text/x-python', buffer: Buffer.from('import json\n') }]);
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/run_[0-9a-z]{26}$/);
    const id = new URL(page.url()).pathname.split('/').at(-1)!;
    const run = await api<RunRecord>(stack, `/v1/runs/${id}`);
    expect(run.body.mode).toBe('evolve');
    expect(run.body.policy.evolve).toMatchObject({ generations: 3, islands: 2, population: 4 });
    expect(run.body.inputs.code).toMatch(/^upl_/);
    expect(run.body.inputs.evaluator).toMatch(/^upl_/);
    // A new evolve run's page says it has no candidates yet.
    await page.getByText('No candidates yet.', { exact: false }).waitFor();
    await api(stack, `/v1/runs/${id}/cancel`, { method: 'POST' });
  });

  it('ran nothing anywhere: no dialog, no page error, no refused script', () => {
    expect(trouble).toEqual({ pageErrors: [], cspViolations: [], dialogs: [] });
  });
});
