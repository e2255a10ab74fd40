import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventPage, RunEvent, RunRecord } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

/**
 * A vision model through the real stack (API → BullMQ → worker → scripted model server over HTTP → Docker): the demo
 * with `models: {vision: 'seer'}`. The scripted server's `seer` answers only figure critiques, so any other step
 * routed to it would fail the run; the server counts the images each call carried. The figure drawn in the sandbox
 * reaches seer as an image, its critique sends the figure back once, and the revised figure is the paper's.
 */
const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?';

let stack: Stack;
let run: RunRecord;
let events: RunEvent[];
const artifact = (path: string) => readFile(join(stack.dataDir, 'artifacts', run.id, path));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('a vision model critiques the figures, end to end', () => {
  beforeAll(async () => {
    stack = await startStack();
    const submitted = await submitRun(stack, {
      goal: GOAL,
      models: { vision: 'seer' },
      maxIterations: 3,
      search: { numDrafts: 1 },
      seeds: 0,
      review: { reviewers: 1 },
    });
    run = await waitForStatus(stack, submitted.id, ['succeeded', 'failed', 'cancelled'], 300_000);
    events = [];
    for (let after: string | null = '0'; after !== null; ) {
      const page: EventPage = (
        await api<EventPage>(stack, `/v1/runs/${run.id}/events?after=${after}&limit=1000`, {
          headers: { accept: 'application/json' },
        })
      ).body;
      events.push(...page.events);
      after = page.events.length > 0 ? page.next : null;
    }
  }, 360_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('sends only the figure critique to the vision model, with the figure as an image', () => {
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    expect(run.models).toMatchObject({ code: 'demo', writeup: 'demo', vision: 'seer' });
    const calls = stack.scripted.callsFor(run.id);
    const seen = calls.filter((c) => c.model === 'seer');
    expect(seen.map((c) => c.key)).toEqual(['critique_figures']);
    expect(seen[0]!.images).toHaveLength(1);
    expect(seen[0]!.images[0]).toBeGreaterThan(10_000);
    // No other call carried an image, and the figure step ran twice (the drawing and its one revision).
    expect(calls.filter((c) => c.model !== 'seer').every((c) => c.images.length === 0)).toBe(true);
    expect(calls.filter((c) => c.key === 'write_plot_code').map((c) => c.model)).toEqual(['demo', 'demo']);
  });

  it('says it is alive while the vision model thinks for 16 s: stage.progress names the stage and the call', () => {
    const progress = events.filter((e) => e.type === 'stage.progress').map((e) => e.data);
    expect(progress).toContainEqual(
      expect.objectContaining({ stage: 'figures', step: 'figure_critique', elapsedMs: expect.any(Number) }),
    );
    // No gap of more than 15 s (plus the 1 s the heartbeat checks at, and some slack for a loaded machine) in the
    // events of the figures stage.
    const figures = events.slice(
      events.findIndex((e) => e.type === 'stage.started' && (e.data as { stage: string }).stage === 'figures'),
      events.findIndex((e) => e.type === 'stage.started' && (e.data as { stage: string }).stage === 'writeup'),
    );
    const times = figures.map((e) => Date.parse(e.time));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBeLessThan(15_000 + 4_000);
  });

  it('revises the figure once, and the paper uses the revision', async () => {
    const critiqued = events.filter((e) => e.type === 'figures.critiqued');
    expect(critiqued.map((e) => e.data)).toEqual([
      {
        model: 'seer',
        figures: [
          {
            file: 'final_losses.png',
            verdict: 'revise',
            problems: ['The right panel has no legend; its markers are explained only in the left panel.'],
          },
        ],
        skipped: [],
        revision: 'done',
      },
    ]);
    const created = events.filter((e) => e.type === 'figure.created' && e.data.nodeId === null);
    expect(created.map((e) => e.message.split(':')[0])).toEqual(['Figure', 'Revised figure']);
    expect(JSON.parse((await artifact('figures/critique.json')).toString())).toMatchObject({
      model: 'seer',
      failed: null,
      revision: 'done',
    });
    expect((await artifact('figures/plot.py')).toString()).toContain('revised after the vision model');

    // The transcript names the image the critique saw (not its bytes); the figure now on file is another one.
    const transcript = (await artifact('transcript.jsonl')).toString();
    const entries = transcript
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { purpose: string; images?: { name: string; bytes: number; sha256: string }[] },
      );
    const critique = entries.find((e) => e.purpose === 'figure_critique')!;
    expect(critique.images).toEqual([
      { name: 'final_losses.png', mediaType: 'image/png', bytes: expect.any(Number), sha256: expect.any(String) },
    ]);
    expect(critique.images![0]!.bytes).toBe(stack.scripted.callsFor(run.id).find((c) => c.model === 'seer')!.images[0]);
    expect(transcript).not.toContain('iVBORw0KGgo'); // a PNG in base64
    const revised = await artifact('figures/final_losses.png');
    expect(sha256(revised)).not.toBe(critique.images![0]!.sha256);
    expect(sha256(await artifact('paper/figure1.png'))).toBe(sha256(revised));
  });
});
