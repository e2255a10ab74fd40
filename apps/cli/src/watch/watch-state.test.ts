import { type RunEvent, RunEvent as RunEventSchema } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { RUN_ID, sampleEvents, sampleRun } from '../testing/samples.js';
import { initialWatchState, reduceWatch, type WatchAction, type WatchState } from './watch-state.js';

const reduceAll = (state: WatchState, actions: WatchAction[]) => actions.reduce(reduceWatch, state);
const events = (list: RunEvent[]): WatchAction[] => list.map((event) => ({ type: 'event', event }));

let sequence = 0;
function event(type: string, data: Record<string, unknown>, second = 0): RunEvent {
  sequence++;
  return RunEventSchema.parse({
    id: `${1800000000000 + sequence}-0`,
    runId: RUN_ID,
    time: new Date(Date.UTC(2025, 0, 2, 13, 0, second)).toISOString(),
    type,
    message: `${type} message`,
    data,
  });
}

const usage = (costUsd: number) => ({ calls: 2, promptTokens: 100, completionTokens: 50, totalTokens: 150, costUsd });
const created = (nodeId: string, operator = 'draft', second = 0) =>
  event(
    'node.created',
    { nodeId, parentId: null, operator, iteration: Number(nodeId.slice(1)), plan: 'p', stage: 'baseline' },
    second,
  );
const finished = (nodeId: string, second = 0) =>
  event(
    'node.finished',
    {
      nodeId,
      iteration: Number(nodeId.slice(1)),
      buggy: false,
      exitCode: 0,
      timedOut: false,
      durationMs: 10,
      metrics: {},
      error: null,
      stdoutTail: '',
      stderrTail: '',
    },
    second,
  );

describe('the watch state machine', () => {
  it('starts empty and takes everything the record knows', () => {
    const empty = initialWatchState(RUN_ID);
    expect(empty).toMatchObject({ runId: RUN_ID, status: null, iteration: 0, maxIterations: null, events: 0 });
    const seeded = reduceWatch(empty, {
      type: 'record',
      record: sampleRun({ policy: { ...sampleRun().policy, maxTokens: 50_000 } }),
    });
    expect(seeded).toMatchObject({
      status: 'running',
      stage: 'experiments',
      experimentStage: 'research',
      iteration: 3,
      maxIterations: 6,
      best: { name: 'ece', value: 0.0412, direction: 'minimize', nodeId: 'n003' },
      costUsd: 0.4321,
      budgetUsd: 5,
      tokens: 34000,
      maxTokens: 50_000,
      timeLimitMinutes: 60,
      startedAt: '2025-01-02T12:00:05.000Z',
      attempt: 1,
    });
    expect(empty.status).toBeNull(); // pure: the old state is untouched
  });

  it('follows a whole run event by event', () => {
    const state = reduceAll(initialWatchState(RUN_ID), events(sampleEvents()));
    expect(state).toMatchObject({
      status: 'succeeded',
      stage: 'writeup',
      iteration: 1,
      best: { name: 'ece', value: 0.1234, nodeId: 'n001' },
      costUsd: 0.4321,
      budgetUsd: 5,
      tokens: 34000,
      calls: 12,
      attempt: 1,
      startedAt: '2025-01-02T12:00:01.000Z',
      finishedAt: '2025-01-02T12:00:31.000Z',
      review: { decision: 'accept', overall: 6, confidence: 4, reviewers: 3 },
      runningNodes: [],
      events: sampleEvents().length,
      activity: { type: 'run.finished', text: 'succeeded ($0.4321, 12 model calls)' },
    });
  });

  it('tracks stages, experiment stages and the nodes running now', () => {
    let state = reduceAll(initialWatchState(RUN_ID), [
      { type: 'record', record: sampleRun({ status: 'queued', stage: null, experimentStage: null, iteration: 0 }) },
      ...events([
        event('run.started', { attempt: 1, worker: 'w', resumedAt: null }, 1),
        event('stage.started', { stage: 'experiments' }, 2),
        event('search.stage', { stage: 'baseline', goal: 'g', iterations: 2 }, 3),
        created('n001', 'draft', 4),
        created('n002', 'draft', 5),
      ]),
    ]);
    expect(state).toMatchObject({
      status: 'running',
      stage: 'experiments',
      experimentStage: 'baseline',
      stageBudget: 2,
    });
    expect(state.runningNodes.map((n) => n.nodeId)).toEqual(['n001', 'n002']);

    state = reduceAll(state, events([finished('n002', 6), finished('n002', 6), finished('n001', 7)]));
    expect(state.runningNodes).toEqual([]);
    expect(state.iteration).toBe(2); // a repeated node.finished counts once

    state = reduceAll(
      state,
      events([
        event('stage.finished', { stage: 'experiments', reason: 'done' }, 8),
        event('stage.started', { stage: 'writeup' }, 9),
      ]),
    );
    expect(state).toMatchObject({ stage: 'writeup', experimentStage: null, stageBudget: null });
  });

  it('leaves the last search stage behind when the seeds run, and says which seed runs now', () => {
    const state = reduceAll(initialWatchState(RUN_ID), [
      ...events([
        event('run.started', { attempt: 1, worker: 'w', resumedAt: null }, 1),
        event('search.stage', { stage: 'ablation', goal: 'g', iterations: 2 }, 2),
        event('seed.started', { nodeId: 'n003', seed: 2, of: 3 }, 3),
      ]),
    ]);
    expect(state).toMatchObject({ stage: 'experiments', experimentStage: null, stageBudget: null });
    expect(state.activity).toMatchObject({ type: 'seed.started', text: 'n003 seed 2 of 3' });
  });

  it('shows a remark until the next event, and survives events of unknown types', () => {
    let state = reduceWatch(initialWatchState(RUN_ID), { type: 'notice', text: 'reconnecting in 1.0s' });
    expect(state.notice).toBe('reconnecting in 1.0s');
    state = reduceWatch(state, { type: 'unknown-event', eventType: 'future.thing', time: 't', message: 'new' });
    expect(state).toMatchObject({ notice: null, events: 1, activity: { type: 'future.thing', text: 'new' } });
  });

  it('program output does not replace what the run is doing', () => {
    const state = reduceAll(initialWatchState(RUN_ID), [
      ...events([created('n001', 'draft', 1)]),
      ...events([event('exec.output', { nodeId: 'n001', stream: 'stdout', text: 'epoch 1\n' }, 2)]),
    ]);
    expect(state.activity?.type).toBe('node.created');
    expect(state.events).toBe(2);
  });

  it('starts over when events follow run.finished (a rerun), and the record of the rerun is taken as is', () => {
    let state = reduceAll(initialWatchState(RUN_ID), events(sampleEvents()));
    expect(state.status).toBe('succeeded');
    state = reduceWatch(state, {
      type: 'record',
      record: sampleRun({ status: 'queued', stage: 'writeup', experimentStage: null, iteration: 6, review: null }),
    });
    expect(state).toMatchObject({ status: 'queued', stage: 'writeup', iteration: 6, review: null });
    state = reduceAll(state, events([event('run.started', { attempt: 2, worker: 'w2', resumedAt: null }, 40)]));
    expect(state).toMatchObject({ status: 'running', attempt: 2, finishedAt: null, error: null });

    // Without a record in between, the first event after run.finished still resets what was final.
    const again = reduceAll(initialWatchState(RUN_ID), events(sampleEvents()));
    const next = reduceAll(again, events([event('run.queued', { goal: 'g' }, 50)]));
    expect(next).toMatchObject({ status: 'queued', finishedAt: null, review: null, finishedNodes: [] });
  });

  it('keeps the failure of a failed run', () => {
    const state = reduceAll(
      initialWatchState(RUN_ID),
      events([
        event('run.started', { attempt: 1, worker: 'w', resumedAt: null }),
        event('run.finished', {
          status: 'failed',
          error: { code: 'budget_exceeded', message: 'over' },
          usage: usage(5.1),
        }),
      ]),
    );
    expect(state).toMatchObject({ status: 'failed', error: { code: 'budget_exceeded' }, costUsd: 5.1 });
  });
});
