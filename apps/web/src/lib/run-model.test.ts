import type { RunEvent } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyRunModel, metricName, nodeOutcomes, recordedMetrics } from './run-model.js';

let seq = 0;
const ev = (type: string, data: Record<string, unknown>, id = `${++seq}-0`) =>
  ({ id, runId: 'run_x', time: '2024-01-01T00:00:00Z', type, message: type, data }) as unknown as RunEvent;

const finished = (nodeId: string, iteration: number, buggy: boolean, metrics: Record<string, number> = {}) =>
  ev('node.finished', {
    nodeId,
    iteration,
    buggy,
    exitCode: buggy ? 1 : 0,
    timedOut: false,
    durationMs: 1000,
    metrics,
    error: buggy ? 'Traceback' : null,
    stdoutTail: 'out',
    stderrTail: '',
    analysis: 'fine',
  });

describe('run model', () => {
  it('folds node events into a tree with statuses, the best node and metric points', () => {
    const m = emptyRunModel();
    const events = [
      ev('run.started', { attempt: 1, worker: 'w', resumedAt: null }),
      ev('plan.ready', {
        title: 't',
        hypothesis: 'h',
        metric: { name: 'acc', direction: 'maximize', description: '' },
      }),
      ev('search.stage', { stage: 'baseline', goal: 'g', iterations: 2 }),
      ev('node.created', {
        nodeId: 'n001',
        parentId: null,
        operator: 'draft',
        iteration: 1,
        plan: 'p1',
        stage: 'baseline',
      }),
      ev('exec.output', { nodeId: 'n001', stream: 'stdout', text: 'hello ' }),
      ev('exec.output', { nodeId: 'n001', stream: 'stdout', text: 'world' }),
      finished('n001', 1, true),
      ev('node.created', {
        nodeId: 'n002',
        parentId: 'n001',
        operator: 'debug',
        iteration: 2,
        plan: 'p2',
        stage: 'baseline',
      }),
      finished('n002', 2, false, { acc: 0.8 }),
      ev('metric.improved', {
        nodeId: 'n002',
        iteration: 2,
        name: 'acc',
        value: 0.8,
        previous: null,
        direction: 'maximize',
      }),
      ev('figure.created', { nodeId: 'n002', path: 'nodes/n002/files/a.png' }),
      ev('cost.updated', {
        purpose: 'x',
        model: 'demo',
        promptTokens: 1,
        completionTokens: 1,
        costUsd: 0.1,
        total: { calls: 1, promptTokens: 1, completionTokens: 1, totalTokens: 2, costUsd: 0.1 },
        budgetUsd: 2,
      }),
    ];
    for (const e of events) expect(applyEvent(m, e)).toBe(true);
    expect(m.status).toBe('running');
    expect(m.experimentStage).toBe('baseline');
    expect(m.nodes.get('n001')).toMatchObject({ status: 'failed', liveOutput: 'hello world', error: 'Traceback' });
    expect(m.nodes.get('n002')).toMatchObject({
      status: 'ok',
      parentId: 'n001',
      metrics: { acc: 0.8 },
      analysis: 'fine',
    });
    expect(m.bestNodeId).toBe('n002');
    expect(m.figures).toEqual(['nodes/n002/files/a.png']);
    expect(m.usage?.costUsd).toBe(0.1);
    expect(m.budgetUsd).toBe(2);
    expect(metricName(m)).toBe('acc');
    // Failed experiments are outcomes too (the chart marks them); every recorded metric can be charted.
    expect(nodeOutcomes(m)).toEqual([
      { nodeId: 'n001', iteration: 1, failed: true, metrics: {} },
      { nodeId: 'n002', iteration: 2, failed: false, metrics: { acc: 0.8 } },
    ]);
    expect(recordedMetrics(nodeOutcomes(m), 'acc')).toEqual(['acc']);
    expect(
      recordedMetrics([{ nodeId: 'n3', iteration: 3, failed: false, metrics: { loss: 1, acc: 0.5 } }], 'acc'),
    ).toEqual(['acc', 'loss']);
  });

  it('ignores duplicates and finishes the run', () => {
    const m = emptyRunModel();
    const e = ev('stage.started', { stage: 'writeup' });
    expect(applyEvent(m, e)).toBe(true);
    expect(applyEvent(m, e)).toBe(false);
    expect(m.events).toHaveLength(1);
    applyEvent(
      m,
      ev('run.finished', {
        status: 'succeeded',
        error: null,
        usage: { calls: 2, promptTokens: 1, completionTokens: 1, totalTokens: 2, costUsd: 0.2 },
      }),
    );
    expect(m.status).toBe('succeeded');
    expect(m.stage).toBe('done');
    expect(m.usage?.calls).toBe(2);
  });

  it('is live again after a rerun requeues the finished run', () => {
    const m = emptyRunModel();
    applyEvent(
      m,
      ev('run.finished', {
        status: 'failed',
        error: { code: 'x', message: 'y' },
        usage: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0 },
      }),
    );
    expect(m.status).toBe('failed');
    applyEvent(m, ev('run.requeued', { reason: 'rerun from writeup' }));
    expect(m.status).toBe('queued');
    expect(m.finished).toBeNull();
  });

  it('forgets what a rerun redoes: from the experiments the tree and its points, from the writeup only the paper', () => {
    const created = (nodeId: string) =>
      ev('node.created', { nodeId, parentId: null, operator: 'draft', iteration: 1, plan: 'p', stage: 'baseline' });
    const run = () => {
      const m = emptyRunModel();
      for (const e of [
        ev('plan.ready', {
          title: 't',
          hypothesis: 'h',
          metric: { name: 'acc', direction: 'maximize', description: '' },
        }),
        created('n001'),
        finished('n001', 1, false, { acc: 0.5 }),
        ev('metric.improved', {
          nodeId: 'n001',
          iteration: 1,
          name: 'acc',
          value: 0.5,
          previous: null,
          direction: 'maximize',
        }),
        ev('stage.finished', { stage: 'baseline', reason: 'done' }),
        ev('figure.created', { nodeId: 'n001', path: 'nodes/n001/files/curve.png' }),
        ev('figure.created', { nodeId: null, path: 'figures/final.png' }),
        ev('paper.ready', { pdf: 'paper/paper.pdf', tex: 'paper/paper.tex', attempt: 1, fallback: false }),
      ]) {
        applyEvent(m, e);
      }
      return m;
    };

    const fromWriteup = run();
    applyEvent(fromWriteup, ev('run.requeued', { reason: 'rerun from writeup', rerunFrom: 'writeup' }));
    expect(fromWriteup.paper).toBeNull();
    expect(fromWriteup.nodes.size).toBe(1);
    expect(fromWriteup.figures).toEqual(['nodes/n001/files/curve.png', 'figures/final.png']);

    const fromFigures = run();
    applyEvent(fromFigures, ev('run.requeued', { reason: 'rerun from figures', rerunFrom: 'figures' }));
    expect(fromFigures.figures).toEqual(['nodes/n001/files/curve.png']);
    expect(fromFigures.stagesDone).toEqual(['baseline']);

    const fromExperiments = run();
    applyEvent(fromExperiments, ev('run.requeued', { reason: 'rerun from experiments', rerunFrom: 'experiments' }));
    expect(fromExperiments.nodes.size).toBe(0);
    expect(fromExperiments.bestNodeId).toBeNull();
    expect(fromExperiments.figures).toEqual([]);
    expect(fromExperiments.stagesDone).toEqual([]);
    expect(nodeOutcomes(fromExperiments)).toEqual([]);
    applyEvent(fromExperiments, created('n001'));
    applyEvent(fromExperiments, finished('n001', 1, false, { acc: 0.7 }));
    expect(nodeOutcomes(fromExperiments)).toEqual([
      { nodeId: 'n001', iteration: 1, failed: false, metrics: { acc: 0.7 } },
    ]);

    // A worker shutdown requeues without forgetting anything.
    const shutdown = run();
    applyEvent(shutdown, ev('run.requeued', { reason: 'worker shutdown', rerunFrom: null }));
    expect(shutdown.nodes.size).toBe(1);
    expect(shutdown.paper).not.toBeNull();
  });

  it('fetches a revised figure again and keeps the critique until a rerun redraws the figures', () => {
    const m = emptyRunModel();
    const critique = {
      model: 'seer',
      figures: [{ file: 'final.png', verdict: 'revise', problems: ['No legend.'] }],
      skipped: [],
      revision: 'done',
    };
    applyEvent(m, ev('figure.created', { nodeId: null, path: 'figures/final.png' }, 'f-1'));
    applyEvent(m, ev('figure.created', { nodeId: null, path: 'figures/final.png' }, 'f-2'));
    applyEvent(m, ev('figures.critiqued', critique));
    expect(m.figures).toEqual(['figures/final.png']);
    expect(m.figureVersions).toEqual({ 'figures/final.png': 'f-2' });
    expect(m.figureCritique).toEqual(critique);
    applyEvent(m, ev('run.requeued', { reason: 'rerun from figures', rerunFrom: 'figures' }));
    expect(m.figureCritique).toBeNull();
  });

  it("labels figures with their captions, an experiment's figure with its file name and node", () => {
    const m = emptyRunModel();
    applyEvent(m, ev('figure.created', { nodeId: null, path: 'figures/a.png', caption: 'Loss by step.' }));
    applyEvent(m, ev('figure.created', { nodeId: 'n004', path: 'nodes/n004/files/loss_curves.png' }));
    // Recorded before the event had the caption: it is in the message.
    const old = ev('figure.created', { nodeId: null, path: 'figures/b.png' });
    applyEvent(m, { ...old, message: 'Figure: figures/b.png — Accuracy by seed.' } as RunEvent);
    expect(m.figureCaptions).toEqual({
      'figures/a.png': 'Loss by step.',
      'nodes/n004/files/loss_curves.png': 'loss curves (experiment n004)',
      'figures/b.png': 'Accuracy by seed.',
    });
  });

  it('keeps unknown event types in the log', () => {
    const m = emptyRunModel();
    expect(applyEvent(m, ev('something.new', { x: 1 }))).toBe(true);
    expect(m.events.map((e) => e.type)).toEqual(['something.new']);
  });

  it('keeps which lessons went into which step, and what the run taught', () => {
    const m = emptyRunModel();
    applyEvent(m, ev('lessons.applied', { step: 'ideation', lessonIds: ['les_a'], retrieval: 'fulltext' }));
    applyEvent(
      m,
      ev('lessons.applied', { step: 'baseline draft', lessonIds: ['les_a', 'les_b'], retrieval: 'fulltext' }),
    );
    applyEvent(m, ev('lessons.learned', { created: ['les_c'], updated: ['les_a'], dropped: 1 }));
    expect(m.lessonsApplied.map((a) => [a.step, a.lessonIds])).toEqual([
      ['ideation', ['les_a']],
      ['baseline draft', ['les_a', 'les_b']],
    ]);
    expect(m.lessonsLearned).toEqual({ created: ['les_c'], updated: ['les_a'], dropped: 1 });
  });
});
