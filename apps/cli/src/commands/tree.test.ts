import type { RunEvent } from '@autolab/contracts';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { RUN_ID, sampleRun } from '../testing/samples.js';
import { captureIo, type StubServer, startStubServer } from '../testing/stub-server.js';
import { experimentTree, formatExperimentTree } from './tree.js';

let seq = 0;
const ev = (type: string, data: Record<string, unknown>) =>
  ({ id: `${++seq}-0`, runId: RUN_ID, time: '2026-11-29T00:00:00Z', type, message: type, data }) as RunEvent;
const created = (
  nodeId: string,
  parentId: string | null,
  operator: string,
  stage: string,
  plan = `plan of ${nodeId}`,
) => ev('node.created', { nodeId, parentId, operator, iteration: Number(nodeId.slice(1)), plan, stage });
const finished = (nodeId: string, metrics: Record<string, number>, error: string | null = null) =>
  ev('node.finished', {
    nodeId,
    iteration: Number(nodeId.slice(1)),
    buggy: error !== null,
    exitCode: error ? 1 : 0,
    timedOut: false,
    durationMs: 2100,
    metrics,
    error,
    stdoutTail: '',
    stderrTail: '',
    analysis: null,
  });
const improved = (nodeId: string, value: number) =>
  ev('metric.improved', { nodeId, iteration: 1, name: 'loss', value, previous: null, direction: 'minimize' });

const EVENTS = [
  ev('plan.ready', { title: 't', hypothesis: 'h', metric: { name: 'loss', direction: 'minimize', description: '' } }),
  created('n001', null, 'draft', 'baseline'),
  finished('n001', {}, 'exited with code 1: Traceback\nValueError: shapes do not match'),
  created('n002', 'n001', 'debug', 'baseline'),
  finished('n002', { loss: 0.5 }),
  improved('n002', 0.5),
  created('n003', 'n002', 'hyperparameter', 'tuning'),
  finished('n003', { loss: 0.38 }),
  improved('n003', 0.38),
  created('n004', 'n002', 'ablation', 'ablation'),
];

afterEach(() => {
  seq = 0;
});

describe('experiment tree', () => {
  it('folds the events into nodes under their parents, with outcomes and the best node', () => {
    const tree = experimentTree(EVENTS);
    expect(tree.metric).toEqual({ name: 'loss', direction: 'minimize' });
    expect(tree.bestNodeId).toBe('n003');
    expect(tree.nodes.map((n) => [n.id, n.parentId, n.status])).toEqual([
      ['n001', null, 'buggy'],
      ['n002', 'n001', 'ok'],
      ['n003', 'n002', 'ok'],
      ['n004', 'n002', 'running'],
    ]);
  });

  it('draws each node under its parent with its outcome, the best marked, in columns that line up at every depth', () => {
    const lines = formatExperimentTree(experimentTree(EVENTS), 100);
    expect(lines).toEqual([
      'metric: loss (minimize)',
      'n001        draft           baseline  ✗  2.1s  ValueError: shapes do not match  plan of n001',
      '└─ n002     debug           baseline  ✓  2.1s  0.5                              plan of n002',
      '   ├─ n003  hyperparameter  tuning    ✓  2.1s  0.38 ★ best                      plan of n003',
      '   └─ n004  ablation        ablation  …        running                          plan of n004',
    ]);
    // Operators are named as the events and the dashboard name them.
    expect(lines.join('\n')).not.toMatch(/\btune\b|\bablate\b/);
  });

  it('cuts each line to the width', () => {
    const lines = formatExperimentTree(experimentTree(EVENTS), 50);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(50);
    expect(lines[1]).toBe('n001        draft           baseline  ✗  2.1s  Va…');
  });

  it('lines up the columns after wide (CJK, emoji) text and cuts by display width', () => {
    const wide = [
      EVENTS[0]!,
      created('n001', null, 'draft', 'baseline', '学習率を下げる 🧪 and retry'),
      finished('n001', {}, 'exited with code 1: 値エラー：形状が一致しません'),
      created('n002', 'n001', 'debug', 'baseline'),
      finished('n002', { loss: 0.5 }),
    ];
    const lines = formatExperimentTree(experimentTree(wide), 80);
    const planColumn = (line: string, plan: string) => stringWidth(line.slice(0, line.indexOf(plan)));
    expect(planColumn(lines[1]!, '学習率')).toBe(planColumn(lines[2]!, 'plan of n002'));
    for (const width of [40, 41, 57, 58]) {
      for (const line of formatExperimentTree(experimentTree(wide), width)) {
        expect(stringWidth(line)).toBeLessThanOrEqual(width);
      }
    }
  });

  it('starts again after a rerun from the experiments, but not after other requeues', () => {
    const requeued = [...EVENTS, ev('run.requeued', { reason: 'worker shutdown', rerunFrom: null })];
    expect(experimentTree(requeued).nodes).toHaveLength(4);
    const rerun = [
      ...EVENTS,
      ev('run.requeued', { reason: 'rerun from experiments', rerunFrom: 'experiments' }),
      created('n001', null, 'draft', 'baseline'),
    ];
    const tree = experimentTree(rerun);
    expect(tree.nodes.map((n) => n.id)).toEqual(['n001']);
    expect(tree.bestNodeId).toBeNull();
  });

  it('says so when there is nothing yet', () => {
    expect(formatExperimentTree(experimentTree([]))).toEqual(['no experiments yet']);
  });
});

describe('autolab tree', () => {
  let server: StubServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('reads every page of events and prints the tree, or JSON', async () => {
    const pages = [EVENTS.slice(0, 6), EVENTS.slice(6), []];
    server = await startStubServer((request, res) => {
      if (new URL(request.url, 'http://x').pathname === `/v1/runs/${RUN_ID}`) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(sampleRun()));
        return;
      }
      const after = new URL(request.url, 'http://x').searchParams.get('after');
      const page = after === null ? pages[0] : after === EVENTS[5]!.id ? pages[1] : pages[2];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ events: page, next: null, finished: false }));
    });
    const env = { AUTOLAB_URL: server.url };
    const text = captureIo();
    expect(await runCli(['tree', RUN_ID], { env, io: text.io })).toBe(0);
    expect(text.stdout()).toContain('   ├─ n003  hyperparameter  tuning    ✓  2.1s  0.38 ★ best');
    // The run's record (its mode), then every page of events.
    expect(server.requests).toHaveLength(4);

    const json = captureIo();
    expect(await runCli(['tree', RUN_ID, '--json'], { env, io: json.io })).toBe(0);
    const parsed = JSON.parse(json.stdout()) as { runId: string; bestNodeId: string; nodes: unknown[] };
    expect(parsed).toMatchObject({ runId: RUN_ID, bestNodeId: 'n003' });
    expect(parsed.nodes).toHaveLength(4);
  });
});
