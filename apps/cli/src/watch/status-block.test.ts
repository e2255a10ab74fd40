import { EvolvePolicy } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { formatRunOutcome, formatUsage } from '../human-format.js';
import { visibleWidth } from '../terminal/ansi.js';
import { extraSampleEvents, RUN_ID, sampleEvents, sampleRun } from '../testing/samples.js';
import { formatElapsed, renderStatusBlock } from './status-block.js';
import { initialWatchState, reduceWatch, type WatchState } from './watch-state.js';

const EVOLVE_DEFAULTS = EvolvePolicy.parse({});
const NOW = Date.parse('2025-01-02T12:02:18.000Z'); // 2m13s after sampleRun's startedAt
const ESC = '\x1b';

function runningState(): WatchState {
  let state = reduceWatch(initialWatchState(RUN_ID), { type: 'record', record: sampleRun() });
  state = reduceWatch(state, {
    type: 'event',
    event: {
      id: '1-0',
      runId: RUN_ID,
      time: '2025-01-02T12:02:00.000Z',
      type: 'node.created',
      message: 'm',
      data: { nodeId: 'n004', parentId: 'n003', operator: 'improve', iteration: 4, plan: 'p', stage: 'research' },
    },
  });
  return state;
}

describe('renderStatusBlock', () => {
  it('shows stage, iterations with a bar, best metric, cost against the budget, elapsed time and what runs now', () => {
    const lines = renderStatusBlock(runningState(), { width: 80, color: false, now: NOW });
    expect(lines).toEqual([
      `── ${RUN_ID} · running ${'─'.repeat(79 - 3 - RUN_ID.length - 3 - 'running'.length - 1)}`,
      'stage      experiments › research',
      `iteration  ${'█'.repeat(12)}${'░'.repeat(12)}  3/6 (50%)`,
      'best       ece = 0.0412 (minimize, n003)',
      `cost       ${'█'.repeat(2)}${'░'.repeat(22)}  $0.4321 of $5.00, 34,000 tokens`,
      `elapsed    ${'█'.repeat(1)}${'░'.repeat(23)}  2m13s (limit 1h00m)`,
      'now        running n004 improve of n003 (18s)',
    ]);
  });

  it('never writes a line as wide as the terminal, at any width', () => {
    const states = [initialWatchState(RUN_ID), runningState()];
    for (const event of sampleEvents()) states.push(reduceWatch(states.at(-1)!, { type: 'event', event }));
    for (const width of [1, 10, 20, 40, 49, 50, 60, 80, 120, 200]) {
      for (const state of states) {
        for (const color of [false, true]) {
          for (const line of renderStatusBlock(state, { width, color, now: NOW })) {
            expect(visibleWidth(line), `width ${width}: ${JSON.stringify(line)}`).toBeLessThan(Math.max(2, width));
          }
        }
      }
    }
  });

  it('drops the bars on narrow terminals and keeps the numbers', () => {
    const lines = renderStatusBlock(runningState(), { width: 45, color: false, now: NOW });
    expect(lines.join('\n')).not.toContain('█');
    expect(lines[2]).toBe('iteration  3/6 (50%)');
    expect(lines[4]).toBe('cost       $0.4321 of $5.00, 34,000 tokens');
    expect(lines[0]!.length).toBe(44);
  });

  it('counts a stage of one experiment in the singular', () => {
    const state = { ...runningState(), experimentStage: 'ablation' as const, stageBudget: 1 };
    const text = renderStatusBlock(state, { width: 100, color: false, now: NOW }).join('\n');
    expect(text).toContain('› ablation (up to 1 experiment)');
  });

  it("shows the prompt's cached share and says when tokens are estimated", () => {
    const usage = { ...sampleRun().usage, cachedTokens: 12_000, estimatedTokens: 34_000 };
    const state = reduceWatch(initialWatchState(RUN_ID), { type: 'record', record: sampleRun({ usage }) });
    const lines = renderStatusBlock(state, { width: 120, color: false, now: NOW });
    expect(lines.find((l) => l.startsWith('cost'))).toContain('34,000 tokens, 40% of prompt cached, estimated');
    expect(formatUsage({ ...usage, estimatedTokens: 1_200 })).toBe(
      '$0.4321 (12 calls, 34,000 tokens, 40% of prompt cached, 1,200 estimated)',
    );
  });

  it('says so when the run has no USD budget (a model without a price), with no budget bar', () => {
    const lines = renderStatusBlock({ ...runningState(), budgetUsd: null }, { width: 100, color: false, now: NOW });
    expect(lines[4]).toBe('cost       $0.4321 (price unknown, no USD budget), 34,000 tokens');
  });

  it('colours only when asked (NO_COLOR gives no escape sequence at all)', () => {
    const plain = renderStatusBlock(runningState(), { width: 100, color: false, now: NOW }).join('\n');
    expect(plain).not.toContain(ESC);
    const colored = renderStatusBlock(runningState(), { width: 100, color: true, now: NOW }).join('\n');
    expect(colored).toContain(`${ESC}[36m`); // the bars and the status
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe(plain);
  });

  it('ends in the outcome, with the error of a failed run, and a cut line closes its colours', () => {
    const failed = reduceWatch(runningState(), {
      type: 'record',
      record: sampleRun({
        status: 'failed',
        finishedAt: '2025-01-02T12:05:05.000Z',
        error: { code: 'budget_exceeded', message: 'the budget of $5.00 is spent '.repeat(5) },
      }),
    });
    const lines = renderStatusBlock(failed, { width: 60, color: true, now: NOW });
    expect(lines.at(-1)).toMatch(/^\x1b\[2mnow {8}\x1b\[22m\x1b\[31mbudget_exceeded: the budget/);
    expect(lines.at(-1)).toMatch(/…\x1b\[39m$/);
    const elapsed = renderStatusBlock(failed, { width: 60, color: false, now: NOW + 3_600_000 })[5];
    expect(elapsed).toBe('elapsed    5m00s (limit 1h00m)'); // stops at finishedAt; no bar once it is over
  });

  it('says what a queued run waits for and shows a review and the attempt', () => {
    const queued = reduceWatch(initialWatchState(RUN_ID), {
      type: 'record',
      record: sampleRun({
        status: 'queued',
        stage: null,
        experimentStage: null,
        startedAt: null,
        bestMetric: null,
        createdAt: '2025-01-02T12:02:00.000Z',
      }),
    });
    const lines = renderStatusBlock(queued, { width: 80, color: false, now: NOW });
    expect(lines[1]).toBe('stage      waiting for a worker');
    expect(lines[3]).toBe('best       -');
    expect(lines[5]).toBe('elapsed    18s in the queue (limit 1h00m)');
    expect(lines[6]).toBe('now        waiting for a worker');

    const reviewed = reduceWatch(runningState(), {
      type: 'record',
      record: sampleRun({
        status: 'running',
        stage: 'review',
        experimentStage: null,
        attempt: 2,
        review: { overall: 6, decision: 'accept', confidence: 4, reviewers: 3 },
      }),
    });
    const text = renderStatusBlock(reviewed, { width: 100, color: false, now: NOW });
    expect(text[1]).toBe('stage      review  attempt 2');
    expect(text).toContain('review     accept, overall 6/10 (confidence 4, 3 reviewers)');
  });

  it('formats elapsed time in whole seconds', () => {
    expect(formatElapsed(0)).toBe('0s');
    expect(formatElapsed(59_999)).toBe('59s');
    expect(formatElapsed(125_000)).toBe('2m05s');
    expect(formatElapsed(3_720_000)).toBe('1h02m');
  });
});

describe('the status block of an evolve run', () => {
  it('counts generations of its settings instead of iterations, and the best score by candidate', () => {
    const evolveRun = sampleRun({
      mode: 'evolve',
      bestMetric: null,
      policy: { ...sampleRun().policy, evolve: { ...EVOLVE_DEFAULTS, generations: 10 } },
    });
    let state = reduceWatch(initialWatchState(RUN_ID), { type: 'record', record: evolveRun });
    for (const event of extraSampleEvents().filter((e) => e.type === 'generation.finished'))
      state = reduceWatch(state, { type: 'event', event });
    state = reduceWatch(state, {
      type: 'event',
      event: {
        id: '99-0',
        runId: RUN_ID,
        time: '2025-01-02T12:02:00.000Z',
        type: 'metric.improved',
        message: 'm',
        data: { nodeId: 'c005', iteration: 2, name: 'score', value: 1.71, previous: 1.2, direction: 'maximize' },
      },
    });
    const lines = renderStatusBlock(state, { width: 80, color: false, now: NOW });
    expect(lines[2]).toBe(`generation ${'█'.repeat(5)}${'░'.repeat(19)}  2/10 (20%)`);
    expect(lines[3]).toBe('best       score = 1.71 (maximize, c005)');
    // The record read again (after a run.finished that was not final) keeps the generations seen.
    expect(reduceWatch(state, { type: 'record', record: evolveRun }).generations).toEqual({ finished: 2, max: 10 });
  });

  it('says how many candidates ran when the run ends', () => {
    const line = formatRunOutcome(sampleRun({ mode: 'evolve', status: 'succeeded', iteration: 9 }));
    expect(line).toContain('succeeded: 9 candidates run, best');
    expect(line).not.toContain('iterations');
  });
});
