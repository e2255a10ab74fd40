import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NewEvent } from '@autolab/contracts';
import { LessonStore, LocalArtifactStore, RedisKeys } from '@autolab/store';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebIfStale, CHROMIUM, launchChromium, type PageTrouble, watchPage } from '../chromium.js';
import { expectInert, HOSTILE, PAYLOADS } from '../hostile-text.js';
import { api, appendWorkerEvents, type Stack, startStack, submitRun } from '../stack.js';

/**
 * What a model (or the program it wrote) says reaches the dashboard as text: plans, analyses, errors, program output,
 * metric names, figure captions, ideas, insights, the review, every prompt and reply of the transcript, hints,
 * goals, and the lessons distilled from runs (their text, tags and evidence). This feeds HTML and script into all of them — through the run's real event stream, its real artifact store
 * and the real API, read by a real Chromium — and checks that none of it runs or becomes markup: no element, attribute
 * or link from the payloads appears in the page, no dialog opens, nothing trips the page's CSP, and each payload is
 * shown as the literal text it is.
 */

/** The events a hostile model and program could make the worker send, payloads in every free-text field. */
function hostileEvents(): NewEvent[] {
  const event = (type: string, data: Record<string, unknown>) =>
    ({ type, message: `${type}: ${HOSTILE}`, data }) as unknown as NewEvent;
  const scores = { interestingness: 5, feasibility: 5, novelty: 5 };
  return [
    event('run.started', { attempt: 1, worker: 'hostile-test', resumedAt: null }),
    event('idea.proposed', { round: 0, ideas: [{ title: `Idea ${HOSTILE}`, hypothesis: HOSTILE, scores }] }),
    event('idea.chosen', { title: `Chosen ${HOSTILE}`, hypothesis: HOSTILE, reason: HOSTILE, scores, references: 0 }),
    event('plan.ready', {
      title: `Plan ${HOSTILE}`,
      hypothesis: HOSTILE,
      metric: { name: '<img src=x onerror=alert(5)>', direction: 'minimize', description: HOSTILE },
    }),
    event('node.created', {
      nodeId: 'n001',
      parentId: null,
      operator: 'draft',
      iteration: 1,
      plan: HOSTILE,
      stage: 'baseline',
    }),
    event('exec.output', { nodeId: 'n001', stream: 'stdout', text: HOSTILE }),
    event('node.finished', {
      nodeId: 'n001',
      iteration: 1,
      buggy: true,
      exitCode: 1,
      timedOut: false,
      durationMs: 1200,
      metrics: {},
      error: `Traceback: ${HOSTILE}`,
      stdoutTail: HOSTILE,
      stderrTail: HOSTILE,
      analysis: HOSTILE,
    }),
    event('node.created', {
      nodeId: 'n002',
      parentId: 'n001',
      operator: 'debug',
      iteration: 2,
      plan: HOSTILE,
      stage: 'baseline',
    }),
    event('node.finished', {
      nodeId: 'n002',
      iteration: 2,
      buggy: false,
      exitCode: 0,
      timedOut: false,
      durationMs: 900,
      metrics: { '<img src=x onerror=alert(5)>': 0.5, '<b class="hostile-marker">m</b>': 0.7 },
      error: null,
      stdoutTail: HOSTILE,
      stderrTail: '',
      analysis: HOSTILE,
    }),
    event('metric.improved', {
      nodeId: 'n002',
      iteration: 2,
      name: '<img src=x onerror=alert(5)>',
      value: 0.5,
      previous: null,
      direction: 'minimize',
    }),
    event('insights.updated', { insights: [HOSTILE, `second ${HOSTILE}`] }),
    event('figure.created', { nodeId: null, path: 'figures/loss.png', caption: `Caption ${HOSTILE}` }),
    event('figure.created', { nodeId: 'n002', path: 'nodes/n002/files/curves.png' }),
    event('warning', { code: 'hostile', detail: HOSTILE }),
    event('error', { code: 'hostile', step: HOSTILE, detail: HOSTILE }),
    event('cost.updated', {
      purpose: 'code',
      model: HOSTILE,
      promptTokens: 10,
      completionTokens: 5,
      cachedTokens: 0,
      estimated: false,
      costUsd: 0,
      total: {
        promptTokens: 10,
        completionTokens: 5,
        totalTokens: 15,
        cachedTokens: 0,
        estimatedTokens: 0,
        costUsd: 0,
        calls: 2,
      },
      budgetUsd: null,
    }),
    event('review.completed', { overall: 5, decision: 'reject', confidence: 3, reviewers: 1 }),
    event('lessons.applied', { step: `draft ${HOSTILE}`, lessonIds: [PAYLOADS[2]], retrieval: 'fulltext' }),
    event('lessons.learned', { created: [PAYLOADS[0]], updated: [], dropped: 0 }),
  ];
}

/** Transcript lines with payloads in every field the viewer shows. */
const TRANSCRIPT = [
  {
    at: '2026-12-05T00:00:00Z',
    purpose: 'code',
    nodeId: 'n002',
    model: HOSTILE,
    mode: 'tools',
    system: HOSTILE,
    prompt: HOSTILE,
    tools: [HOSTILE],
    reply: { tool: HOSTILE, arguments: { code: HOSTILE, plan: HOSTILE } },
    usage: { promptTokens: 10, completionTokens: 5, costUsd: 0 },
    retryOf: HOSTILE,
  },
  {
    at: '2026-12-05T00:00:01Z',
    purpose: HOSTILE,
    nodeId: null,
    model: 'demo',
    system: '',
    prompt: HOSTILE,
    reply: { content: HOSTILE, error: HOSTILE },
    usage: { promptTokens: 10, completionTokens: 5, costUsd: 0 },
  },
]
  .map((line) => JSON.stringify(line))
  .join('\n');

describe.skipIf(!existsSync(CHROMIUM))('hostile text on the dashboard (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let runId = '';
  let otherRunId = '';
  let lessonId = '';
  let trouble: PageTrouble;

  beforeAll(async () => {
    buildWebIfStale();
    // No worker: the run's events are the ones this test writes, as a worker would, to the run's real stream.
    stack = await startStack({ worker: false });
    runId = (await submitRun(stack, { goal: `Goal ${HOSTILE}`, maxIterations: 3 })).id;
    otherRunId = (await submitRun(stack, { goal: `Other goal ${HOSTILE}`, maxIterations: 4 })).id;
    const hint = await api(stack, `/v1/runs/${runId}/hints`, {
      method: 'POST',
      body: JSON.stringify({ text: HOSTILE }),
    });
    expect(hint.status).toBeLessThan(300);
    await appendWorkerEvents(stack, runId, hostileEvents());
    const artifacts = new LocalArtifactStore(join(stack.dataDir, 'artifacts'));
    await artifacts.put(runId, 'transcript.jsonl', `${TRANSCRIPT}\n`);
    await artifacts.put(
      runId,
      'review.json',
      JSON.stringify({
        meta: { summary: HOSTILE, strengths: [HOSTILE], weaknesses: [HOSTILE], questions: [HOSTILE] },
        reviews: [{}],
      }),
    );
    await artifacts.put(runId, 'nodes/n002/experiment.py', `print("${HOSTILE.replace(/"/g, '\\"')}")\n`);
    await artifacts.put(runId, 'nodes/n001/experiment.py', `# ${HOSTILE}\n`);
    // A lesson as a distillation step over a hostile run could leave it: the model's text and tags, the program's error.
    const [lesson] = await new LessonStore(stack.redis, new RedisKeys(stack.prefix)).learn('test', [
      {
        kind: 'pitfall',
        text: `Lesson ${HOSTILE}`,
        tags: PAYLOADS,
        relation: null,
        evidence: [
          {
            runId,
            nodeId: 'n002',
            parentNodeId: 'n001',
            stance: 'supports',
            metric: HOSTILE,
            before: null,
            after: 0.5,
            error: `Traceback: ${HOSTILE}`,
            results: null,
            recordedAt: new Date().toISOString(),
          },
        ],
      },
    ]);
    lessonId = lesson!.id;

    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    trouble = watchPage(page);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the goals on the runs page as text', async () => {
    await page.goto(`${stack.apiUrl}/#key=${encodeURIComponent(stack.apiKey)}`);
    await page.locator(`tr[data-run-id="${runId}"]`).waitFor();
    expect(await page.locator(`tr[data-run-id="${runId}"]`).textContent()).toContain(PAYLOADS[0]);
    await expectInert(page, 'runs page');
  });

  it('shows plan, ideas, insights, figure captions, events, hints and review as text', async () => {
    await page.goto(`${stack.apiUrl}/runs/${runId}`);
    await page.locator('[data-testid=experiment-tree] [data-node-id]').nth(1).waitFor({ timeout: 30_000 });
    await page.getByText(`Plan ${HOSTILE}`, { exact: false }).first().waitFor();
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain(`Plan ${PAYLOADS[0]}`);
    expect(body).toContain(`Caption ${PAYLOADS[0]}`);
    await page.locator('[data-testid=hints] li').first().waitFor();
    expect(await page.locator('[data-testid=hints]').textContent()).toContain(PAYLOADS[2]);
    const captions = await page.locator('[data-testid=figures] figcaption').allTextContents();
    expect(captions).toEqual(expect.arrayContaining([expect.stringContaining(HOSTILE)]));
    await expectInert(page, 'run page');
  });

  it("shows a node's plan, analysis, error, output, code and model calls as text", async () => {
    const detail = page.locator('[data-testid=node-detail]');
    for (const status of ['failed', 'ok']) {
      await page.locator(`[data-testid=experiment-tree] [data-status=${status}]`).first().click();
      await detail.waitFor();
      expect(await detail.textContent()).toContain(PAYLOADS[3]);
      await expectInert(page, `node ${status}: overview`);
      for (const tab of ['code', 'diff', 'output', 'model calls']) {
        const button = detail.getByRole('tab', { name: tab });
        if ((await button.count()) === 0) continue;
        await button.click();
        await page.waitForTimeout(300);
        await detail.locator('summary').evaluateAll((els) => {
          for (const el of els) (el as unknown as { click(): void }).click();
        });
        await expectInert(page, `node ${status}: ${tab}`);
      }
      await detail.getByRole('button', { name: 'Close node details' }).click();
    }
  });

  it("shows every prompt and reply of the run's transcript as text", async () => {
    await page.locator('[data-testid=model-calls-card] .run-model-calls > summary').click();
    const calls = page.locator('[data-testid=model-calls-card] .model-call');
    await calls.first().waitFor();
    await calls.locator('summary').evaluateAll((els) => {
      for (const el of els) (el as unknown as { click(): void }).click();
    });
    const text = (await page.locator('[data-testid=model-calls-card]').textContent()) ?? '';
    for (const payload of PAYLOADS) expect(text).toContain(payload);
    await expectInert(page, 'transcript');
    // The event log lists every event's message, payloads and all.
    await page.locator('[data-testid=event-log]').scrollIntoViewIfNeeded();
    await expectInert(page, 'event log');
  });

  it('shows the compared runs as text', async () => {
    await page.goto(`${stack.apiUrl}/compare?ids=${runId},${otherRunId}`);
    await page.locator('[data-testid=compare-table] thead th').nth(2).waitFor();
    expect(await page.locator('[data-testid=compare-table]').textContent()).toContain(PAYLOADS[4]);
    await expectInert(page, 'compare page');
  });

  it("shows a lesson's text, tags and evidence as text, and the run's lessons", async () => {
    await page.goto(`${stack.apiUrl}/lessons`);
    const item = page.locator(`[data-lesson-id="${lessonId}"]`);
    await item.waitFor();
    expect(await item.locator('.lesson-text').textContent()).toBe(`Lesson ${HOSTILE}`);
    // The store keeps tags sorted.
    expect((await item.locator('.lesson-tags li').allTextContents()).sort()).toEqual([...PAYLOADS].sort());
    await expectInert(page, 'lessons page');
    await item.getByRole('link').click();
    await page.locator('[data-testid=evidence-trail] li').waitFor();
    expect(await page.locator('[data-testid=lesson-text]').textContent()).toBe(`Lesson ${HOSTILE}`);
    expect(await page.locator('.evidence-error').textContent()).toBe(`Traceback: ${HOSTILE}`);
    expect(await page.locator('.evidence-metric').textContent()).toContain(HOSTILE);
    await expectInert(page, 'lesson page');
    await page.goto(`${stack.apiUrl}/runs/${runId}`);
    const lessons = page.locator('[data-testid=run-lessons]');
    await lessons.waitFor();
    const text = (await lessons.textContent()) ?? '';
    expect(text).toContain(`draft ${HOSTILE}`);
    expect(text).toContain(PAYLOADS[2]);
    expect(text).toContain(PAYLOADS[0]);
    await expectInert(page, 'run page lessons');
  });

  it('ran nothing anywhere: no dialog, no page error, no refused script', () => {
    expect(trouble).toEqual({ pageErrors: [], cspViolations: [], dialogs: [] });
  });
});
