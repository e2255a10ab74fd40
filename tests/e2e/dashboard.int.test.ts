import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunRecord } from '@autolab/contracts';
import { LessonStore, LocalArtifactStore, RedisKeys, RunStore } from '@autolab/store';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebIfStale, CHROMIUM, launchChromium, type PageTrouble, watchPage } from '../chromium.js';
import { api, type Stack, startStack, submitRun } from '../stack.js';

/**
 * The web dashboard in a real Chromium against the real stack (API, worker, Docker sandbox, scripted model): submit a
 * goal from the form, watch the run live until it succeeds, open a node's code, download the paper.
 * Screenshots go to test-output/screenshots/.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = join(ROOT, 'test-output/screenshots');
const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by gradient descent?';

const shot = (page: Page, name: string, fullPage = true) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });

describe.skipIf(!existsSync(CHROMIUM))('web dashboard (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let runId = '';
  let secondRunId = '';
  let pageErrors: string[] = [];
  let cspViolations: string[] = [];
  /** Requests for a run's transcript: the dashboard reads it once per run and keeps it. */
  let transcriptReads = 0;

  beforeAll(async () => {
    buildWebIfStale();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    ({ pageErrors, cspViolations } = watchPage(page));
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/artifacts/transcript.jsonl')) transcriptReads++;
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('serves the app at / with SPA fallback, immutable assets, and JSON 404s for API paths', async () => {
    const index = await fetch(`${stack.apiUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await index.text();
    expect(html).toContain('<div id="root">');
    const asset = /\/assets\/[^"]+\.js/.exec(html)?.[0];
    expect(asset).toBeTruthy();
    const js = await fetch(`${stack.apiUrl}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const deep = await fetch(`${stack.apiUrl}/runs/run_whatever`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    const missingApi = await api<{ error: { code: string } }>(stack, '/v1/no-such-route');
    expect(missingApi.status).toBe(404);
    expect(missingApi.body.error.code).toBe('route_not_found');
    // A path that is no route declares no access rule: without a key it is refused like any non-public path.
    expect((await fetch(`${stack.apiUrl}/favicon.ico`)).status).toBe(401);
    expect((await api(stack, '/favicon.ico')).status).toBe(404);
    // Spellings of API paths never land on the app's page.
    for (const path of ['/V1/admin/keys', '/%2576%31/admin/keys', '/ADMIN/queues/api/queues', '/runs/x/y']) {
      const res = await api(stack, path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toContain('application/json');
    }
  });

  it('takes the key from #key=, stores it and removes it from the URL', async () => {
    await page.goto(`${stack.apiUrl}/#key=${encodeURIComponent(stack.apiKey)}`);
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate<string | null>("localStorage.getItem('autolab.apiKey')")).toBe(stack.apiKey);
    await page.getByText('No runs yet').waitFor();
  });

  it('takes a key from a #key= link opened in a tab that already shows the dashboard', async () => {
    await page.evaluate("location.hash = '#key=another-key-0000'");
    await expect
      .poll(() => page.evaluate<string | null>("localStorage.getItem('autolab.apiKey')"))
      .toBe('another-key-0000');
    expect(new URL(page.url()).hash).toBe('');
    await page.getByRole('button', { name: 'Key …0000' }).waitFor();
    await page.evaluate(`location.hash = '#key=${encodeURIComponent(stack.apiKey)}'`);
    await expect.poll(() => page.evaluate<string | null>("localStorage.getItem('autolab.apiKey')")).toBe(stack.apiKey);
    await page.getByRole('button', { name: `Key …${stack.apiKey.slice(-4)}` }).waitFor();
  });

  it('shows the API validation errors and submits a goal from the form', async () => {
    await page.getByRole('link', { name: 'New run' }).first().click();
    await page.getByRole('heading', { name: 'New run' }).waitFor();
    await page.locator('textarea[name=goal]').fill('too short');
    await page.locator('input[name=maxIterations]').fill('500');
    await page.getByRole('button', { name: 'Start run' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    // One voice: the form's own checks and the API's issues read alike, by the labels the form shows.
    expect(await page.locator('.field-error').allTextContents()).toEqual([
      'Enter at least 10 characters (this has 9).',
      'Enter a whole number from 1 to 200.',
    ]);
    expect(await alert.textContent()).toMatch(
      /^2 fields need a change:.*Research goal:.*Max iterations: Enter a whole/,
    );
    await page.locator('details.advanced summary').click();
    await shot(page, '02-submit-form-validation');
    // What only the API can check (the images this deployment has) reads the same way.
    await page.locator('textarea[name=goal]').fill(GOAL);
    await page.locator('input[name=maxIterations]').fill('5');
    await page.locator('input[name=image]').fill('no-such-image');
    await page.getByRole('button', { name: 'Start run' }).click();
    await expect.poll(() => alert.textContent()).toMatch(/^One field needs a change:Image: There is no sandbox image/);
    expect(await alert.textContent()).not.toMatch(/Invalid body|Too big|sandbox\.image/);
    await page.locator('input[name=image]').fill('');

    await page.locator('textarea[name=goal]').fill(GOAL);
    await page.locator('input[name=maxIterations]').fill('5');
    await page.locator('input[name=model]').fill('demo');
    // A model of its own for the judge role (the demo's replies under another name, at the same scripted server).
    await page.locator('input[name=modelJudge]').fill('demo-judge');
    await page.locator('input[name=numDrafts]').fill('1');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/run_[0-9a-z]{26}$/);
    runId = new URL(page.url()).pathname.split('/').at(-1)!;
    expect(runId).toMatch(/^run_/);
    await expect.poll(() => page.locator('[data-testid=run-models]').textContent()).toMatch(/demo.*judge demo-judge/);
    // The scripted models have no price here: the form sent no budget, and the run has no USD budget.
    const record = await api<RunRecord>(stack, `/v1/runs/${runId}`);
    expect(record.body.models).toMatchObject({ code: 'demo', judge: 'demo-judge', vision: null });
    expect(record.body.budgetUsd).toBeNull();
  });

  it('sends a hint to the live run', async () => {
    await page.getByLabel('Hint for the agent').fill('Keep the learning-rate grid small.');
    await page.getByRole('button', { name: 'Send hint' }).click();
    await page.locator('[data-testid=hints] li').first().waitFor();
    expect(await page.locator('[data-testid=hints]').textContent()).toContain('Keep the learning-rate grid small.');
  });

  it('follows the run live: the tree grows and the run succeeds', async () => {
    const nodes = page.locator('[data-testid=experiment-tree] [data-node-id]');
    await nodes.first().waitFor({ timeout: 120_000 });
    const early = await nodes.count();
    expect(await page.locator('[data-testid=run-status] [data-status]').getAttribute('data-status')).toMatch(
      /running|queued/,
    );
    // A more telling mid-run picture: once an experiment has finished (unless the run is already done).
    await page
      .locator('[data-testid=experiment-tree] [data-status=ok], [data-testid=run-status] [data-status=succeeded]')
      .first()
      .waitFor({ timeout: 240_000 });
    await shot(page, '03-run-live');

    await page.locator('[data-testid=run-status] [data-status=succeeded]').waitFor({ timeout: 240_000 });
    const final = await nodes.count();
    expect(final).toBeGreaterThanOrEqual(2);
    expect(final).toBeGreaterThanOrEqual(early);
    expect(await page.locator('[data-testid=experiment-tree] [data-status=ok]').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid=experiment-tree] [data-best=true]').count()).toBe(1);
    await page.locator('[data-testid=metric-chart]').waitFor();
    await page.locator('[data-testid=paper-frame]').waitFor({ timeout: 30_000 });
    await page.locator('[data-stream-state=finished]').waitFor();
    // What the page shows is what the API says.
    const record = await api<{ iteration: number; maxIterations: number }>(stack, `/v1/runs/${runId}`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    await expect
      .poll(() => page.locator('[data-testid=iteration]').textContent())
      .toContain(`${record.body.iteration}`);
    await page.waitForTimeout(500);
    await shot(page, '04-run-finished');
    // The waits above allow a slow, loaded machine minutes; the test as a whole as long.
  }, 600_000);

  it('charts every recorded metric, marks the failed experiments and labels figures with their captions', async () => {
    const card = page.locator('[data-testid=metric-card]');
    const chart = card.locator('.metric-chart');
    expect(await chart.getAttribute('data-metric')).toBe('final_loss_standardized');
    // n001 of the demo crashes: it is on the axis as a failure, not left out.
    expect(Number(await chart.getAttribute('data-failures'))).toBeGreaterThanOrEqual(1);
    expect(await card.locator('.chart-notes').textContent()).toContain('n001 (iteration 1)');
    const options = await card.getByLabel('Metric').locator('option').allTextContents();
    expect(options).toEqual(expect.arrayContaining(['final_loss_standardized (main)', 'final_loss_raw']));
    await card.getByLabel('Metric').selectOption('final_loss_raw');
    expect(await chart.getAttribute('data-metric')).toBe('final_loss_raw');
    expect(await card.locator('[data-testid=metric-chart] canvas').count()).toBe(1);
    await card.getByLabel('Metric').selectOption('final_loss_standardized');
    const captions = await page.locator('[data-testid=figures] figcaption').allTextContents();
    expect(captions.length).toBeGreaterThan(0);
    for (const caption of captions) expect(caption).not.toMatch(/\.png$|^figures\//);
  });

  it('keeps a failed node with a long error line inside the main column', async () => {
    await page.locator('[data-testid=experiment-tree] [data-status=failed]').first().click();
    const detail = page.locator('[data-testid=node-detail]');
    await detail.waitFor();
    await detail.getByText('Error', { exact: true }).waitFor();
    const box = async (selector: string) => (await page.locator(selector).first().boundingBox())!;
    const main = await box('.run-main');
    const side = await box('.run-side');
    const panel = await box('[data-testid=node-detail]');
    // The panel is as wide as its column, never wider, and the right column starts after it.
    expect(panel.width).toBeLessThanOrEqual(main.width + 1);
    expect(panel.x + panel.width).toBeLessThanOrEqual(side.x);
    // Every block of the panel (plan, analysis, error) stays inside the panel.
    const widest = await detail.evaluate((el) =>
      Math.max(...[...el.querySelectorAll('p, pre, dl')].map((b) => b.getBoundingClientRect().right)),
    );
    expect(widest).toBeLessThanOrEqual(panel.x + panel.width);
    await shot(page, '05-node-failed', false);
    await detail.getByRole('button', { name: 'Close node details' }).click();
  });

  it('opens a node and shows its code', async () => {
    await page.locator('[data-testid=experiment-tree] [data-best=true]').click();
    const detail = page.locator('[data-testid=node-detail]');
    await detail.waitFor();
    expect(await detail.textContent()).toContain('Plan');
    await page.waitForTimeout(400); // the smooth scroll to the panel
    await shot(page, '05-node-detail', false);
    await detail.getByRole('tab', { name: 'code' }).click();
    const code = detail.locator('[data-testid=node-code]');
    await code.waitFor();
    expect(await code.textContent()).toMatch(/import|def |print/);
    await shot(page, '06-node-code', false);
    // The best node improves on a parent: its diff shows what it changed.
    await detail.getByRole('tab', { name: 'diff' }).click();
    const diff = detail.locator('[data-testid=node-diff]');
    await diff.waitFor();
    expect(await diff.textContent()).toMatch(/Against n\d{3}: \+\d+ −\d+ lines/);
    expect(await diff.locator('.diff-add').count()).toBeGreaterThan(0);
    await shot(page, '06-node-diff', false);
    // The model calls that wrote and judged it, with prompt, reply, tokens and cost.
    await detail.getByRole('tab', { name: 'model calls' }).click();
    const calls = detail.locator('[data-testid=model-calls]');
    await calls.waitFor();
    const purposes = await calls
      .locator('.model-call')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-purpose')));
    expect(purposes).toContain('judge');
    expect(purposes.some((p) => p !== 'judge')).toBe(true);
    await calls.locator('.model-call summary').first().click();
    expect(await calls.locator('.model-call').first().textContent()).toMatch(/Prompt.*Reply/s);
    expect(await calls.textContent()).toMatch(/\d+ calls?, [\d,]+ tokens/);
    await shot(page, '06-node-model-calls', false);
    // And every call of the run, ideas and paper included.
    await page.locator('[data-testid=model-calls-card] .run-model-calls > summary').click();
    const all = page.locator('[data-testid=model-calls-card] [data-testid=model-calls] .model-call');
    await all.first().waitFor();
    const runPurposes = await all.evaluateAll((els) => els.map((e) => e.getAttribute('data-purpose')));
    expect(runPurposes).toEqual(expect.arrayContaining(['ideas', 'judge', 'paper']));
    // One read of the finished run's transcript served the node's calls and the run's; closing and opening them
    // again, and another node's calls, read nothing more.
    expect(transcriptReads).toBe(1);
    await page.locator('[data-testid=model-calls-card] .run-model-calls > summary').click();
    await page.locator('[data-testid=model-calls-card] .run-model-calls > summary').click();
    await all.first().waitFor();
    await detail.getByRole('button', { name: 'Close node details' }).click();
    await page.locator('[data-testid=experiment-tree] [data-node-id]').first().click();
    await detail.getByRole('tab', { name: 'model calls' }).click();
    await detail.locator('[data-testid=model-calls], p.muted').first().waitFor();
    await page.waitForTimeout(300);
    expect(transcriptReads).toBe(1);
  });

  it('downloads the paper PDF with the key', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-download=pdf]').click()]);
    const path = await download.path();
    expect(readFileSync(path).subarray(0, 4).toString('latin1')).toBe('%PDF');
    expect(download.suggestedFilename()).toBe('paper.pdf');
  });

  it('reruns the finished run from the review and follows it to the end again', async () => {
    const finishedBefore = await page.locator('.log-row[data-type="run.finished"]').count();
    await page.getByRole('button', { name: 'Rerun…' }).click();
    await page.getByLabel('Rerun from stage').selectOption('review');
    await page.getByRole('button', { name: 'Rerun', exact: true }).click();
    await page.locator('.log-row[data-type="run.requeued"]').first().waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('.log-row[data-type="run.finished"]').count(), { timeout: 180_000, interval: 500 })
      .toBeGreaterThan(finishedBefore);
    await page.locator('[data-testid=run-status] [data-status=succeeded]').waitFor({ timeout: 30_000 });
    await page.locator('[data-stream-state=finished]').waitFor();
  });

  it('lists the run with its status, iterations and cost', async () => {
    await page.getByRole('link', { name: 'Runs' }).first().click();
    const row = page.locator(`tr[data-run-id="${runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('succeeded');
    await shot(page, '01-runs-list');
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.apiUrl}/runs/${runId}`);
    await page.locator('[data-testid=run-status] [data-status=succeeded]').waitFor();
    await page.locator('[data-testid=experiment-tree] [data-node-id]').first().waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, '07-run-phone', false);
    expect(pageErrors).toEqual([]);
  });

  it('uploads the files chosen for data, starting code and papers, shows a refused one by its field, and names them in the run', async () => {
    await page.goto(`${stack.apiUrl}/new`);
    await page.getByRole('heading', { name: 'New run' }).waitFor();
    await page.locator('textarea[name=goal]').fill(GOAL);
    await page.locator('input[name=model]').fill('demo');
    await page
      .locator('input[name=data]')
      .setInputFiles([{ name: 'bad|name.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n') }]);
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.locator('.field-invalid .field-error').allTextContents()).toEqual([
      expect.stringContaining('not an allowed file name'),
    ]);

    await page
      .locator('input[name=data]')
      .setInputFiles([{ name: 'train.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n') }]);
    await page
      .locator('input[name=code]')
      .setInputFiles([{ name: 'main.py', mimeType: 'text/x-python', buffer: Buffer.from('print(1)\n') }]);
    await page
      .locator('input[name=papers]')
      .setInputFiles([{ name: 'refs.bib', mimeType: 'text/plain', buffer: Buffer.from('@misc{k, title = {T}}\n') }]);
    expect(await page.getByRole('group', { name: 'Data (optional)' }).textContent()).toContain('1 file(s)');
    await shot(page, '09-submit-form-files');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/run_[0-9a-z]{26}$/);
    const id = new URL(page.url()).pathname.split('/').at(-1)!;
    const run = await api<{ inputs: { data?: string; code?: string; papers?: string } }>(stack, `/v1/runs/${id}`);
    expect(run.body.inputs.data).toMatch(/^upl_/);
    expect(run.body.inputs.code).toMatch(/^upl_/);
    expect(run.body.inputs.papers).toMatch(/^upl_/);
    const data = await api<{ files: { path: string }[] }>(stack, `/v1/uploads/${run.body.inputs.data}`);
    expect(data.body.files.map((f) => f.path)).toEqual(['train.csv']);
    await api(stack, `/v1/runs/${id}/cancel`, { method: 'POST' });
    secondRunId = id;
  });

  it('compares two runs picked on the runs page, side by side, in a view that can be reloaded', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${stack.apiUrl}/`);
    await page.locator(`tr[data-run-id="${runId}"]`).waitFor();
    const compare = page.getByRole('button', { name: /^Compare/ });
    expect(await compare.isDisabled()).toBe(true);
    await page.getByLabel(`Compare ${runId}`).check();
    await page.getByLabel(`Compare ${secondRunId}`).check();
    await compare.click();
    await page.waitForURL(/\/compare\?ids=/);
    const check = async () => {
      // Each run's record and all its events are read first (page by page).
      await expect
        .poll(() => page.locator('[data-testid=compare-page] .page-head p').textContent(), { timeout: 60_000 })
        .not.toContain('loading');
      await shot(page, '10-compare');
      expect(await page.locator('[data-testid=compare-page] [role=alert]').allTextContents()).toEqual([]);
      const table = page.locator('[data-testid=compare-table]');
      await table.locator('thead th').nth(2).waitFor();
      expect(await table.locator('thead th').allTextContents()).toEqual([
        '',
        expect.stringContaining(runId),
        expect.stringContaining(secondRunId),
      ]);
      // Columns in the order the runs were ticked. The form asked for 5 iterations for the first run; the second
      // took the form's default (6).
      const iterations = table.locator('tr[data-row="Max iterations"]');
      expect(await iterations.locator('td').allTextContents()).toEqual(['5', '6']);
      expect(await iterations.getAttribute('class')).toContain('differs');
      expect(await table.locator('tr[data-row="Best node"] td').first().textContent()).toMatch(
        /^n\d{3} \(iteration \d+\)$/,
      );
      await page.locator('[data-testid=compare-chart] canvas').waitFor();
    };
    await check();
    await page.reload();
    await check();
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });

  it('follows a live run in the compare view until it finishes, without a reload', async () => {
    const live = await submitRun(stack, { goal: GOAL, maxIterations: 2, model: 'demo' });
    await page.goto(`${stack.apiUrl}/compare?ids=${runId},${live.id}`);
    const table = page.locator('[data-testid=compare-table]');
    const liveStatus = table.locator('thead th').nth(2).locator('[data-status]');
    await expect.poll(() => liveStatus.getAttribute('data-status'), { timeout: 60_000 }).toMatch(/queued|running/);
    await page.locator('[data-testid=compare-live]').waitFor();
    expect(await page.locator('[data-testid=compare-live]').textContent()).toContain('Following 1 live run');
    const cancelled = await api(stack, `/v1/runs/${live.id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBeLessThan(300);
    await expect.poll(() => liveStatus.getAttribute('data-status'), { timeout: 120_000 }).toBe('cancelled');
    await page.locator('[data-testid=compare-live]').waitFor({ state: 'detached' });
    // The finished run's record and events stopped being read: nothing is asked for after it finished.
    const asked: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes(live.id)) asked.push(request.url());
    });
    await page.waitForTimeout(4000);
    expect(asked).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

/**
 * The lessons pages against the real API and Redis: lessons written by the store the worker uses (`LessonStore.learn`,
 * as the distillation step does), with evidence pointing at a real run's files in the artifact store, and another
 * tenant's library shared read-only. No research run is needed: the run stays queued (no worker).
 */
describe.skipIf(!existsSync(CHROMIUM))('lessons on the dashboard (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let trouble: PageTrouble;
  let runId = '';
  const ids = { pitfall: '', technique: '', setting: '', shared: '' };
  const ERROR = 'exited with code 1: ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0';
  const PITFALL =
    'Gradient descent for logistic regression crashed with a shape mismatch (4 columns, 5 weights) until the design matrix got a column of ones for the bias.';

  type Learned = Parameters<LessonStore['learn']>[1][number];
  const learned = (
    kind: Learned['kind'],
    text: string,
    tags: string[],
    over: Partial<Learned['evidence'][number]> = {},
  ): Learned => ({
    kind,
    text,
    tags,
    relation: null,
    evidence: [
      {
        runId,
        nodeId: 'n002',
        parentNodeId: 'n001',
        stance: 'supports',
        metric: 'final_loss',
        before: null,
        after: 0.3105,
        error: ERROR,
        results: 'nodes/n002/results.json',
        recordedAt: new Date().toISOString(),
        ...over,
      },
    ],
  });

  beforeAll(async () => {
    buildWebIfStale();
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({ worker: false });
    runId = (await submitRun(stack, { goal: GOAL, maxIterations: 3 })).id;
    const artifacts = new LocalArtifactStore(join(stack.dataDir, 'artifacts'));
    await artifacts.put(runId, 'nodes/n002/node.json', JSON.stringify({ id: 'n002', parentId: 'n001' }));
    await artifacts.put(runId, 'nodes/n002/results.json', JSON.stringify({ final_loss: 0.3105 }));
    const lessons = new LessonStore(stack.redis, new RedisKeys(stack.prefix));
    const [pitfall] = await lessons.learn('test', [learned('pitfall', PITFALL, ['lib:numpy', 'task:classification'])]);
    const [technique] = await lessons.learn('test', [
      learned(
        'technique',
        'Standardizing the features before gradient descent cut the final loss of logistic regression.',
        ['task:classification'],
        { nodeId: 'n003', parentNodeId: 'n002', before: 0.3105, after: 0.21, error: null, results: null },
      ),
    ]);
    const [setting] = await lessons.learn('test', [
      learned('setting', 'A learning rate of 0.1 converged within 200 steps on standardized features.', [], {
        nodeId: 'n004',
        error: null,
      }),
    ]);
    // Enough older lessons for a second page.
    for (let i = 0; i < 20; i++)
      await lessons.learn(
        'test',
        [learned('negative-result', `Filler ${i}: dropout of 0.${i} on the tabular baseline did not help.`, [])],
        new Date(Date.now() - 3_600_000 * (i + 1)),
      );
    const [shared] = await lessons.learn('lab-b', [
      learned('pitfall', 'Another lab found that json.dump of numpy float32 values raises TypeError.', ['lib:numpy']),
    ]);
    Object.assign(ids, { pitfall: pitfall!.id, technique: technique!.id, setting: setting!.id, shared: shared!.id });
    const sharing = await api(stack, '/v1/admin/tenants/lab-b/lesson-readers', {
      method: 'PUT',
      key: stack.adminKey,
      body: JSON.stringify({ readers: ['test'] }),
    });
    expect(sharing.status).toBe(200);
    // The run's step that got two of them, as the engine reports it.
    const store = new RunStore(stack.redis, new RedisKeys(stack.prefix));
    await store.appendEvent(runId, {
      type: 'lessons.applied',
      message: `2 lesson(s) from earlier runs in baseline draft: ${ids.pitfall}, ${ids.technique}`,
      data: { step: 'baseline draft', lessonIds: [ids.pitfall, ids.technique], retrieval: 'fulltext' },
    });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    trouble = watchPage(page);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const item = (id: string) => page.locator(`[data-testid=lesson-list] [data-lesson-id="${id}"]`);

  it('lists the lessons from the top navigation, newest first, a page at a time', async () => {
    await page.goto(`${stack.apiUrl}/#key=${encodeURIComponent(stack.apiKey)}`);
    await page.getByRole('link', { name: 'Lessons', exact: true }).click();
    await page.getByRole('heading', { name: 'Lessons', exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/lessons');
    await item(ids.pitfall).waitFor();
    const text = (await item(ids.pitfall).textContent()) ?? '';
    expect(text).toContain('pitfall');
    expect(text).toContain('67%');
    expect(text).toContain('1 run');
    expect(text).toContain(PITFALL);
    expect(await item(ids.pitfall).locator('.lesson-tags li').allTextContents()).toEqual([
      'lib:numpy',
      'task:classification',
    ]);
    const items = page.locator('[data-testid=lesson-list] > li');
    expect(await items.count()).toBe(20);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => items.count()).toBe(24);
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });
    await shot(page, '20-lessons');
    // A reload of the page and of a lesson's page serve the app.
    await page.reload();
    await item(ids.pitfall).waitFor();
  });

  it('searches as a run would, and filters by kind', async () => {
    await page.getByLabel('Search lessons').fill('logistic regression by gradient descent crashes: shape mismatch');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect
      .poll(() => page.locator('[data-testid=lesson-list] > li').first().getAttribute('data-lesson-id'))
      .toBe(ids.pitfall);
    expect(await item(ids.setting).count()).toBe(0);
    await page.getByLabel('Search lessons').fill('protein folding with graph networks');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('A run with this goal would get no lessons.').waitFor();
    await page.getByRole('button', { name: 'Show all' }).click();
    await page.getByLabel('Kind').selectOption('setting');
    await expect.poll(() => page.locator('[data-testid=lesson-list] > li').count()).toBe(1);
    await item(ids.setting).waitFor();
    await page.getByLabel('Kind').selectOption('');
    await item(ids.pitfall).waitFor();
  });

  it("opens a lesson's evidence trail: run, nodes, metric, error and the recorded files", async () => {
    await item(ids.pitfall).getByRole('link').click();
    await page.waitForURL(`**/lessons/${ids.pitfall}`);
    const trail = page.locator('[data-testid=evidence-trail]');
    const entry = trail.locator(`li[data-node-id=n002]`);
    await entry.waitFor();
    const text = (await entry.textContent()) ?? '';
    expect(text).toContain('supports');
    expect(text).toContain(runId);
    expect(text).toMatch(/experiment n002 from n001/);
    expect(text).toMatch(/final_loss\s*—\s*→\s*0\.3105/);
    expect(await entry.locator('.evidence-error').textContent()).toBe(ERROR);
    // n002 fixed its parent: the error is n001's.
    expect(text).toContain('error of n001');
    for (const [button, file] of [
      ['node', { id: 'n002', parentId: 'n001' }],
      ['results', { final_loss: 0.3105 }],
    ] as const) {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        entry.locator(`[data-download=${button}]`).click(),
      ]);
      expect(JSON.parse(readFileSync(await download.path(), 'utf8'))).toEqual(file);
    }
    await shot(page, '21-lesson-trail');
    await entry.getByRole('link', { name: runId }).click();
    await page.waitForURL(`**/runs/${runId}`);
    await page.goBack();
    await entry.waitFor();
  });

  it('pins and unpins, retracts and restores a lesson', async () => {
    const head = page.locator('.lesson-head');
    await page.getByRole('button', { name: 'Pin', exact: true }).click();
    await head.locator('.pill', { hasText: 'pinned' }).waitFor();
    expect((await api<{ pinned: boolean }>(stack, `/v1/lessons/${ids.pitfall}`)).body.pinned).toBe(true);
    await page.getByRole('button', { name: 'Unpin' }).click();
    await head.locator('.pill', { hasText: 'pinned' }).waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Retract' }).click();
    await head.locator('.pill', { hasText: 'retracted' }).waitFor();
    expect((await api<{ retracted: boolean }>(stack, `/v1/lessons/${ids.pitfall}`)).body.retracted).toBe(true);
    // Retracted lessons are listed only on request.
    await page.getByRole('link', { name: 'Lessons', exact: true }).first().click();
    await item(ids.technique).waitFor();
    expect(await item(ids.pitfall).count()).toBe(0);
    await page.getByLabel('Show retracted').check();
    await item(ids.pitfall).locator('.pill', { hasText: 'retracted' }).waitFor();
    await item(ids.pitfall).getByRole('link').click();
    await page.getByRole('button', { name: 'Restore' }).click();
    await head.locator('.pill', { hasText: 'retracted' }).waitFor({ state: 'detached' });
    expect((await api<{ retracted: boolean }>(stack, `/v1/lessons/${ids.pitfall}`)).body.retracted).toBe(false);
  });

  it('deletes a lesson after a confirmation', async () => {
    await page.goto(`${stack.apiUrl}/lessons/${ids.setting}`);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Keep it' }).click();
    expect((await api(stack, `/v1/lessons/${ids.setting}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete the lesson' }).click();
    await page.getByText(`Lesson ${ids.setting} is deleted.`).waitFor();
    expect((await api(stack, `/v1/lessons/${ids.setting}`)).status).toBe(404);
    await page.reload();
    await page
      .getByRole('alert')
      .getByText(/There is no lesson/)
      .waitFor();
  });

  it('says a lesson another tenant shares is read-only, and disables its buttons', async () => {
    await page.goto(`${stack.apiUrl}/lessons`);
    await item(ids.shared).getByRole('link').click();
    await page.waitForURL(`**/lessons/${ids.shared}`);
    expect(await page.locator('.lesson-head').textContent()).toContain('Tenant lab-b');
    await page.getByRole('button', { name: 'Pin', exact: true }).click();
    const alert = page.locator('.lesson-head').getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/belongs to tenant lab-b, which shares it with yours read-only/);
    for (const name of ['Pin', 'Retract', 'Delete'])
      expect(await page.getByRole('button', { name, exact: true }).isDisabled(), name).toBe(true);
    expect((await api<{ pinned: boolean }>(stack, `/v1/lessons/${ids.shared}`)).body.pinned).toBe(false);
    await shot(page, '22-lesson-read-only');
  });

  it('fits the lessons and a lesson on a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [path, ready] of [
      ['/lessons', `[data-lesson-id="${ids.pitfall}"]`],
      [`/lessons/${ids.pitfall}`, '[data-testid=evidence-trail] li'],
    ]) {
      await page.goto(`${stack.apiUrl}${path}`);
      await page.locator(ready!).first().waitFor();
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await shot(page, '23-lesson-phone', false);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it("shows on a run's page which lessons went into which step, linked to them", async () => {
    await page.goto(`${stack.apiUrl}/runs/${runId}`);
    const card = page.locator('[data-testid=run-lessons]');
    const step = card.locator('li[data-step="baseline draft"]');
    await step.waitFor();
    expect(await step.getByRole('link').allTextContents()).toEqual([ids.pitfall, ids.technique]);
    await step.getByRole('link', { name: ids.technique }).click();
    await page.waitForURL(`**/lessons/${ids.technique}`);
    await page.locator('[data-testid=evidence-trail] li[data-node-id=n003]').waitFor();
    expect(trouble).toEqual({ pageErrors: [], cspViolations: [], dialogs: [] });
  });
});
