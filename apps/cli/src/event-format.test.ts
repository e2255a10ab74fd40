import { RunEvent } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { EventFormatter } from './event-format.js';
import { extraSampleEvents, sampleEvents } from './testing/samples.js';

const at = (second: number) => `12:00:${String(second).padStart(2, '0')}`;

/** What each sample event prints, in order (exec.output chunks are cut into the program's lines). */
const EXPECTED_LINES = [
  `${at(0)} run.queued     Does label smoothing improve calibration?`,
  `${at(1)} run.started    Run started on worker w1 (attempt 1).`,
  `${at(2)} stage.started  ideation`,
  `${at(3)} plan.ready     Label smoothing and calibration: minimize ece`,
  `${at(4)} stage.started  experiments`,
  `${at(5)} node.created   n001 draft (iteration 1): Train an MLP with smoothing 0.1`,
  `${at(6)}   n001 out| epoch 1 loss 0.9`,
  `${at(7)}   n001 out| epoch 2 loss 0.5`,
  `${at(8)}   n001 err| warning: slow red`,
  `${at(9)} node.finished  n001 ok ece=0.1234 (3.2s)`,
  `${at(10)} metric.improved n001 ece 0.1234 (first), minimize`,
  `${at(11)} figure.created figures/reliability.png (n001)`,
  `${at(12)} cost.updated   +$0.0012 draft gpt-4o-mini (1200+300 tokens), total $0.4321 of $5.00`,
  `${at(13)} stage.finished experiments: reached the limit of 5 experiments`,
  `${at(14)} error          bad_tool_call in improve: no tool call in reply`,
  `${at(15)} warning        slow_exec: n001 took 3.2s`,
  `${at(16)} run.requeued   Requeued: the worker stopped.`,
  `${at(17)} run.cancel_requested Cancellation requested.`,
  `${at(18)} idea.proposed  round 0: Smoothing`,
  `${at(19)} literature.searched 5 papers from semantic_scholar for "label smoothing calibration"`,
  `${at(20)} idea.chosen    Smoothing: most feasible`,
  `${at(21)} search.stage   tuning (2 experiments): Tune the learning rate.`,
  `${at(22)} insights.updated Smoothing 0.1 halves ECE.`,
  `${at(23)} seeds.evaluated n003 ece = 0.045 ± 0.005 over 3 seeds`,
  `${at(24)} hint.received  h1: Try smoothing 0.2.`,
  `${at(25)} hint.applied   h1 used in n004 improve`,
  `${at(26)} stage.started  writeup`,
  `${at(27)} paper.compiling attempt 1`,
  `${at(28)} paper.compile_failed attempt 1: ! Undefined control sequence.`,
  `${at(29)} paper.ready    paper/paper.pdf (attempt 2)`,
  `${at(30)} review.completed accept (overall 6/10, confidence 4, 3 reviewers)`,
  `${at(31)} run.finished   succeeded ($0.4321, 12 model calls)`,
];

const base = { runId: 'run_01jabcdefghjkmnpqrstvwxyz0', message: 'm', time: '2025-01-02T12:00:00.000Z' };
const output = (id: string, text: string, stream: 'stdout' | 'stderr' = 'stdout', nodeId = 'n002'): RunEvent =>
  RunEvent.parse({ ...base, id, type: 'exec.output', data: { nodeId, stream, text } });
const nodeFinished = (data: Record<string, unknown>): RunEvent =>
  RunEvent.parse({
    ...base,
    id: '9',
    type: 'node.finished',
    data: {
      nodeId: 'n002',
      iteration: 2,
      buggy: false,
      exitCode: 0,
      timedOut: false,
      durationMs: 1500,
      metrics: {},
      error: null,
      stdoutTail: '',
      stderrTail: '',
      ...data,
    },
  });

describe('EventFormatter', () => {
  it('has a sample of every event type in the union, each valid against RunEvent', () => {
    const samples = [...sampleEvents(), ...extraSampleEvents()];
    for (const event of samples) expect(RunEvent.safeParse(event).success, event.type).toBe(true);
    const unionTypes = RunEvent.options.map((option) => option.shape.type.value).sort();
    expect([...new Set(samples.map((e) => e.type))].sort()).toEqual(unionTypes);
  });

  it('prints one line per event, and program output cut into its own lines', () => {
    const formatter = new EventFormatter({ utc: true });
    const lines = sampleEvents().flatMap((event) => formatter.format(event));
    expect(lines).toEqual(EXPECTED_LINES);
    expect(formatter.flush()).toEqual([]);
  });

  it('names the inputs a run was given, its figure critique, its held-out scores and its lessons', () => {
    const formatter = new EventFormatter({ utc: true });
    expect(extraSampleEvents().flatMap((event) => formatter.format(event))).toEqual([
      '12:00:00 figures.critiqued gpt-4o: 1 of 2 to revise (reliability.png: The legend hides the diagonal.); revised once',
      '12:00:01 inputs.described data upl_01jabcdefghjkmnpqrstvwxyz0 (2 files)',
      '12:00:02 inputs.papers  upl_01jabcdefghjkmnpqrstvwxyz1: 2 reference(s), 1 unreadable',
      '12:00:03 evaluation.scored held-out accuracy: n003 0.81, n001 0.88, n002 not graded; best held-out n001, not n003',
      '12:00:04 seed.started   n003 seed 1 of 2',
      '12:00:05 seed.finished  n003 seed 1 = 0.044 (3.2s)',
      '12:00:06 seed.finished  n003 seed 2 failed (0.9s)',
      '12:00:07 stage.progress writeup: write_paper (30.0s)',
      '12:00:08 lessons.applied les_01m93v92cdt7sxjs5jqn6h3g7m in baseline draft',
      '12:00:09 lessons.learned 1 new, 1 updated, 1 dropped (not shown by the results)',
      '12:00:10 models.allocated generation 2 → evolve-good: evolve-good: 2 of 2 children improved on their parent, score 1.83 > evolve-flat 0.49',
      '12:00:11 candidate.created c005 diff of c002 on island 1 by evolve-good: Place the circles on a hexagonal lattice instead of a square grid.',
      "12:00:12 candidate.rejected evolve-flat's child is 1 similar (tokens) to c004; 1 rejected so far",
      '12:00:13 candidate.evaluated c005 score 1.71 (improved on its parent)',
      '12:00:14 candidate.evaluated c007 incorrect: circles 2 and 3 overlap',
      '12:00:15 islands.migrated c005 1→0',
      '12:00:16 recommendations.updated 2 recommendation(s): Hexagonal placements beat square grids.',
      '12:00:17 generation.finished generation 2: best 1.71 (c005); 1 scored, 1 incorrect, 0 failed, 1 rejected',
    ]);
  });

  it('describes failed and timed-out experiments with their error and many metrics briefly', () => {
    const formatter = new EventFormatter({ utc: true });
    expect(
      formatter.format(
        nodeFinished({ buggy: true, exitCode: 1, error: 'Traceback …\n  File "x"\nValueError: shapes differ\n' }),
      ),
    ).toEqual(['12:00:00 node.finished  n002 buggy exit 1 (1.5s): ValueError: shapes differ']);
    expect(
      formatter.format(nodeFinished({ buggy: true, timedOut: true, exitCode: null, durationMs: 300_000 })),
    ).toEqual(['12:00:00 node.finished  n002 timed out (5m00s)']);
    expect(formatter.format(nodeFinished({ metrics: { a: 1, b: 0.123456, c: 1234.5678, d: -2.5, e: 3 } }))).toEqual([
      '12:00:00 node.finished  n002 ok a=1 b=0.1235 c=1234.6 d=-2.5 +1 more (1.5s)',
    ]);
  });

  it('shows the previous best of an improved metric and the reason of a failed run', () => {
    const formatter = new EventFormatter({ utc: true });
    const improved = RunEvent.parse({
      ...base,
      id: '1',
      type: 'metric.improved',
      data: { nodeId: 'n004', iteration: 4, name: 'acc', value: 0.845, previous: 0.8123, direction: 'maximize' },
    });
    expect(formatter.format(improved)).toEqual(['12:00:00 metric.improved n004 acc 0.8123 → 0.845, maximize']);
    // A tie broken by the judge is not shown as an improvement ("0.3813 → 0.3813").
    const tie = RunEvent.parse({ ...improved, id: '3', data: { ...improved.data, value: 0.3813, previous: 0.3813 } });
    expect(formatter.format(tie)).toEqual([
      '12:00:00 metric.improved n004 chosen among nodes with equal acc 0.3813, maximize',
    ]);
    const failed = RunEvent.parse({
      ...base,
      id: '2',
      type: 'run.finished',
      data: {
        status: 'failed',
        error: { code: 'budget_exceeded', message: 'spent $5.01 of $5.00' },
        usage: { calls: 3, promptTokens: 1, completionTokens: 1, totalTokens: 2, costUsd: 5.01 },
      },
    });
    expect(formatter.format(failed)).toEqual([
      '12:00:00 run.finished   failed budget_exceeded: spent $5.01 of $5.00 ($5.01, 3 model calls)',
    ]);
  });

  it('holds a partial output line per node and stream until its end arrives or the node finishes', () => {
    const formatter = new EventFormatter({ utc: true });
    expect(formatter.format(output('1', 'loading'))).toEqual([]);
    expect(formatter.format(output('2', 'oops', 'stderr'))).toEqual([]);
    expect(formatter.format(output('3', 'other node\n', 'stdout', 'n003'))).toEqual([
      '12:00:00   n003 out| other node',
    ]);
    expect(formatter.format(output('4', ' data… done\r\nnext'))).toEqual(['12:00:00   n002 out| loading data… done']);
    expect(formatter.format(nodeFinished({}))).toEqual([
      '12:00:00   n002 out| next',
      '12:00:00   n002 err| oops',
      '12:00:00 node.finished  n002 ok (1.5s)',
    ]);
  });

  it('shows the last state of a carriage-return progress bar and strips terminal escapes', () => {
    const formatter = new EventFormatter({ utc: true });
    expect(formatter.format(output('1', ' 10%\r 50%\r100%\n\x1b]0;pwned\x07\x1b[2Jclean\x00\n'))).toEqual([
      '12:00:00   n002 out| 100%',
      '12:00:00   n002 out| clean',
    ]);
  });

  it('prints an event type it does not know by its message', () => {
    const formatter = new EventFormatter({ utc: true });
    expect(formatter.formatUnknown({ type: 'review.ready', time: base.time, message: 'Review:\n 6/10' })).toEqual([
      '12:00:00 review.ready   Review: 6/10',
    ]);
  });
});
