import type { EventOf, EvolveDatabaseFile, RunEvent, RunRecord } from '@autolab/contracts';

export const RUN_ID = 'run_01jabcdefghjkmnpqrstvwxyz0';

const usage = {
  calls: 12,
  promptTokens: 30000,
  completionTokens: 4000,
  totalTokens: 34000,
  costUsd: 0.4321,
  cachedTokens: 0,
  estimatedTokens: 0,
};

export function sampleRun(overrides: Partial<RunRecord> = {}): RunRecord {
  const id = overrides.id ?? RUN_ID;
  return {
    id,
    mode: 'research',
    goal: 'Does label smoothing improve calibration of a small MLP on a synthetic task?',
    status: 'running',
    stage: 'experiments',
    iteration: 3,
    maxIterations: 6,
    model: 'gpt-4o-mini',
    models: {
      code: 'gpt-4o-mini',
      judge: 'gpt-4o-mini',
      writeup: 'gpt-4o-mini',
      review: 'gpt-4o-mini',
      ideas: 'gpt-4o-mini',
      vision: null,
    },
    budgetUsd: 5,
    timeLimitMinutes: 60,
    sandbox: { cpus: 1, memoryMb: 2048, execTimeoutSeconds: 300, image: 'python' },
    policy: {
      maxTokens: null,
      search: { numDrafts: 2, debugProb: 0.5, maxDebugDepth: 3, nodeConcurrency: 1 },
      ideation: { numIdeas: 3, reflections: 1 },
      review: { reviewers: 3, revise: false },
      seeds: 3,
      pageLimit: 8,
      lessons: { use: true, learn: true },
      evolve: null,
      searchTuning: [],
    },
    tenant: 'default',
    inputs: {},
    experimentStage: 'research',
    review: null,
    bestMetric: { name: 'ece', value: 0.0412, direction: 'minimize', nodeId: 'n003', iteration: 3 },
    heldOut: null,
    usage,
    attempt: 1,
    createdAt: '2025-01-02T12:00:00.000Z',
    startedAt: '2025-01-02T12:00:05.000Z',
    finishedAt: null,
    error: null,
    links: {
      self: `/v1/runs/${id}`,
      dashboard: `/runs/${id}`,
      events: `/v1/runs/${id}/events`,
      artifacts: `/v1/runs/${id}/artifacts`,
      archive: `/v1/runs/${id}/archive`,
      cancel: `/v1/runs/${id}/cancel`,
    },
    ...overrides,
  };
}

type Sample = {
  [T in RunEvent['type']]: Omit<Extract<RunEvent, { type: T }>, 'id' | 'runId' | 'time'>;
}[RunEvent['type']];

/** One event of every type, in the order a run might emit them; `run.finished` last. */
const SAMPLES: Sample[] = [
  { type: 'run.queued', message: 'Run queued.', data: { goal: 'Does label smoothing improve calibration?' } },
  {
    type: 'run.started',
    message: 'Run started on worker w1 (attempt 1).',
    data: { attempt: 1, worker: 'w1', resumedAt: null },
  },
  { type: 'stage.started', message: 'Ideation.', data: { stage: 'ideation' } },
  {
    type: 'plan.ready',
    message: 'Plan ready.',
    data: {
      title: 'Label smoothing and calibration',
      hypothesis: 'Smoothing lowers ECE.',
      metric: { name: 'ece', direction: 'minimize', description: 'expected calibration error' },
    },
  },
  { type: 'stage.started', message: 'Experiments.', data: { stage: 'experiments' } },
  {
    type: 'node.created',
    message: 'Drafting n001.',
    data: {
      nodeId: 'n001',
      parentId: null,
      operator: 'draft',
      iteration: 1,
      plan: 'Train an MLP\nwith smoothing 0.1',
      stage: 'baseline',
    },
  },
  {
    type: 'exec.output',
    message: 'output',
    data: { nodeId: 'n001', stream: 'stdout', text: 'epoch 1 loss 0.9\nepoch 2 lo' },
  },
  { type: 'exec.output', message: 'output', data: { nodeId: 'n001', stream: 'stdout', text: 'ss 0.5\n' } },
  {
    type: 'exec.output',
    message: 'output',
    data: { nodeId: 'n001', stream: 'stderr', text: 'warning: slow\x1b[31m red\x1b[0m' },
  },
  {
    type: 'node.finished',
    message: 'n001 finished.',
    data: {
      nodeId: 'n001',
      iteration: 1,
      buggy: false,
      exitCode: 0,
      timedOut: false,
      durationMs: 3200,
      metrics: { ece: 0.1234 },
      error: null,
      stdoutTail: 'epoch 2 loss 0.5\n',
      stderrTail: '',
      analysis: null,
      skippedOutputs: null,
    },
  },
  {
    type: 'metric.improved',
    message: 'New best ece.',
    data: { nodeId: 'n001', iteration: 1, name: 'ece', value: 0.1234, previous: null, direction: 'minimize' },
  },
  { type: 'figure.created', message: 'Figure saved.', data: { nodeId: 'n001', path: 'figures/reliability.png' } },
  {
    type: 'cost.updated',
    message: 'Model call.',
    data: {
      purpose: 'draft',
      model: 'gpt-4o-mini',
      promptTokens: 1200,
      completionTokens: 300,
      cachedTokens: 0,
      estimated: false,
      costUsd: 0.0012,
      total: usage,
      budgetUsd: 5,
    },
  },
  {
    type: 'stage.finished',
    message: 'Experiments finished.',
    data: { stage: 'experiments', reason: 'reached the limit of 5 experiments' },
  },
  {
    type: 'error',
    message: 'The model answered without a tool call.',
    data: { code: 'bad_tool_call', step: 'improve', detail: 'no tool call\nin reply' },
  },
  { type: 'warning', message: 'Slow.', data: { code: 'slow_exec', detail: 'n001 took 3.2s' } },
  { type: 'run.requeued', message: 'Requeued: the worker stopped.', data: { reason: 'worker lost', rerunFrom: null } },
  { type: 'run.cancel_requested', message: 'Cancellation requested.', data: {} },
  {
    type: 'idea.proposed',
    message: 'Ideas.',
    data: {
      round: 0,
      ideas: [{ title: 'Smoothing', hypothesis: 'h', scores: { interestingness: 7, feasibility: 9, novelty: 5 } }],
    },
  },
  {
    type: 'literature.searched',
    message: 'Searched.',
    data: { query: 'label smoothing calibration', source: 'semantic_scholar', count: 5, cached: false },
  },
  {
    type: 'idea.chosen',
    message: 'Chosen.',
    data: {
      title: 'Smoothing',
      hypothesis: 'h',
      reason: 'most feasible',
      scores: { interestingness: 7, feasibility: 9, novelty: 5 },
      references: 5,
    },
  },
  {
    type: 'search.stage',
    message: 'Tuning.',
    data: { stage: 'tuning', goal: 'Tune the learning rate.', iterations: 2 },
  },
  { type: 'insights.updated', message: 'Insights.', data: { insights: ['Smoothing 0.1 halves ECE.'] } },
  {
    type: 'seeds.evaluated',
    message: 'Seeds.',
    data: {
      nodeId: 'n003',
      metric: 'ece',
      seeds: [1, 2, 3],
      values: [0.04, 0.05, 0.045],
      mean: 0.045,
      std: 0.005,
      ignored: false,
    },
  },
  { type: 'hint.received', message: 'Hint.', data: { hintId: 'h1', text: 'Try smoothing 0.2.' } },
  { type: 'hint.applied', message: 'Hint used.', data: { hintId: 'h1', step: 'n004 improve' } },
  { type: 'stage.started', message: 'Writeup.', data: { stage: 'writeup' } },
  { type: 'paper.compiling', message: 'Compiling.', data: { attempt: 1 } },
  {
    type: 'paper.compile_failed',
    message: 'Compile failed.',
    data: { attempt: 1, errorTail: 'l.42 \\begin{tabular}\n! Undefined control sequence.\n' },
  },
  {
    type: 'paper.ready',
    message: 'Paper ready.',
    data: { pdf: 'paper/paper.pdf', tex: 'paper/paper.tex', attempt: 2, fallback: false },
  },
  {
    type: 'review.completed',
    message: 'Reviewed.',
    data: { overall: 6, decision: 'accept', confidence: 4, reviewers: 3 },
  },
  {
    type: 'run.finished',
    message: 'Run succeeded.',
    data: { status: 'succeeded', error: null, usage },
  },
];

/** Events a run may send that the sample run above does not (it has no uploads, no vision model). */
const EXTRA_SAMPLES: Sample[] = [
  {
    type: 'figures.critiqued',
    message: 'Figures critiqued.',
    data: {
      model: 'gpt-4o',
      figures: [
        { file: 'reliability.png', verdict: 'revise', problems: ['The legend hides the diagonal.'] },
        { file: 'ece.png', verdict: 'ok', problems: [] },
      ],
      skipped: [],
      revision: 'done',
    },
  },
  {
    type: 'inputs.described',
    message: 'Inputs: data (2 file(s)) at /workspace/input/.',
    data: {
      inputs: [{ kind: 'data', uploadId: 'upl_01jabcdefghjkmnpqrstvwxyz0', files: 2 }],
      preview: '/workspace/input/data/ (read-only):\n- train.csv (1.2 kB): table, 40 rows × 3 columns',
    },
  },
  {
    type: 'inputs.papers',
    message: 'Papers: 2 reference(s) from 1 PDF(s) and 1 .bib file(s); 1 problem(s).',
    data: {
      uploadId: 'upl_01jabcdefghjkmnpqrstvwxyz1',
      pdfs: 2,
      bibEntries: 1,
      references: [
        { key: 'smith2020sparse', title: 'Sparse widgets', from: 'bib', file: 'refs.bib' },
        { key: 'anongrokking', title: 'Grokking, briefly', from: 'pdf', file: 'grok.pdf' },
      ],
      unreadable: [{ file: 'scan.pdf', reason: 'no text could be extracted' }],
    },
  },
  {
    type: 'evaluation.scored',
    message: 'Held-out accuracy.',
    data: {
      metric: 'accuracy',
      direction: 'maximize',
      grader: 'builtin',
      graded: [
        { nodeId: 'n003', validation: 0.97, value: 0.81, reason: null },
        { nodeId: 'n001', validation: 0.9, value: 0.88, reason: null },
        { nodeId: 'n002', validation: 0.85, value: null, reason: 'n002 wrote no predictions.csv' },
      ],
      best: { nodeId: 'n001', value: 0.88 },
      bestByValidation: 'n003',
    },
  },
  { type: 'seed.started', message: 'n003 with seed 1 of 2', data: { nodeId: 'n003', seed: 1, of: 2 } },
  {
    type: 'seed.finished',
    message: 'n003 with seed 1: ece = 0.044',
    data: { nodeId: 'n003', seed: 1, value: 0.044, durationMs: 3200 },
  },
  {
    type: 'seed.finished',
    message: 'n003 with seed 2 failed (exit 1)',
    data: { nodeId: 'n003', seed: 2, value: null, durationMs: 900 },
  },
  {
    type: 'stage.progress',
    message: 'writeup: write_paper for 30 s',
    data: { stage: 'writeup', step: 'write_paper', elapsedMs: 30_000 },
  },
  {
    type: 'lessons.applied',
    message: '1 lesson(s) from earlier runs in baseline draft: les_01m93v92cdt7sxjs5jqn6h3g7m',
    data: { step: 'baseline draft', lessonIds: ['les_01m93v92cdt7sxjs5jqn6h3g7m'], retrieval: 'fulltext' },
  },
  {
    type: 'lessons.learned',
    message: 'Lessons from this run: 1 new, 1 updated; 1 proposed lesson(s) dropped',
    data: { created: ['les_01m93v92cdt7sxjs5jqn6h3g7m'], updated: ['les_01m93v92cdxceerzyp8gxqk36s'], dropped: 1 },
  },
  // Evolve mode (docs/evolve.md).
  {
    type: 'models.allocated',
    message: 'Generation 2 goes to evolve-good.',
    data: {
      generation: 2,
      model: 'evolve-good',
      reason: 'evolve-good: 2 of 2 children improved on their parent, score 1.83 > evolve-flat 0.49',
      stats: [
        { model: 'evolve-good', pulls: 2, improvements: 2, costUsd: 0.002, score: 1.83 },
        { model: 'evolve-flat', pulls: 2, improvements: 0, costUsd: 0.002, score: 0.49 },
      ],
    },
  },
  {
    type: 'candidate.created',
    message: 'c005 (diff of c002, island 1) by evolve-good',
    data: {
      candidateId: 'c005',
      generation: 2,
      island: 1,
      parentIds: ['c002'],
      origin: 'diff',
      model: 'evolve-good',
      summary: 'Place the circles on a hexagonal lattice instead of a square grid.',
    },
  },
  {
    type: 'candidate.rejected',
    message: 'A child of c002 is 1 similar to c004: rejected.',
    data: {
      candidateId: 'c006',
      generation: 2,
      island: 0,
      parentIds: ['c002'],
      origin: 'rewrite',
      model: 'evolve-flat',
      similarTo: 'c004',
      similarity: 1,
      measure: 'tokens',
      threshold: 0.95,
      rejections: 1,
    },
  },
  {
    type: 'candidate.evaluated',
    message: 'c005 score 1.71',
    data: {
      candidateId: 'c005',
      generation: 2,
      island: 1,
      status: 'evaluated',
      score: 1.71,
      metrics: { score: 1.71, circles: 9 },
      error: null,
      durationMs: 900,
      improved: true,
    },
  },
  {
    type: 'candidate.evaluated',
    message: 'c007 incorrect: circles 2 and 3 overlap',
    data: {
      candidateId: 'c007',
      generation: 2,
      island: 0,
      status: 'incorrect',
      score: null,
      metrics: {},
      error: 'circles 2 and 3 overlap',
      durationMs: 850,
      improved: false,
    },
  },
  {
    type: 'islands.migrated',
    message: 'Island 1 sent c005 to island 0.',
    data: { generation: 2, moves: [{ from: 1, to: 0, candidateId: 'c005' }] },
  },
  {
    type: 'recommendations.updated',
    message: '2 recommendations for later mutations.',
    data: {
      generation: 3,
      recommendations: [
        { text: 'Hexagonal placements beat square grids.', candidateIds: ['c005'] },
        { text: 'Growing radii past the walls breaks correctness.', candidateIds: ['c007'] },
      ],
    },
  },
  {
    type: 'generation.finished',
    message: 'Generation 2: best 1.71 (c005).',
    data: {
      generation: 2,
      bestCandidateId: 'c005',
      bestScore: 1.71,
      evaluated: 1,
      incorrect: 1,
      failed: 0,
      rejected: 1,
    },
  },
];

/** The extra samples as full events (see `sampleEvents`). */
export function extraSampleEvents(runId = RUN_ID): RunEvent[] {
  return toEvents(EXTRA_SAMPLES, runId);
}

/** The samples as full events with stream-style ids, one second apart from 12:00:00 UTC. */
export function sampleEvents(runId = RUN_ID): RunEvent[] {
  return toEvents(SAMPLES, runId);
}

/** The sample node.finished as workers wrote it before `analysis` and `skippedOutputs` existed (events are stored as written). */
export function olderNodeFinished(runId = RUN_ID): RunEvent {
  const event = sampleEvents(runId).find((e) => e.type === 'node.finished') as EventOf<'node.finished'>;
  const { analysis: _analysis, skippedOutputs: _skipped, ...data } = event.data;
  return { ...event, data } as unknown as RunEvent;
}

function toEvents(samples: Sample[], runId: string): RunEvent[] {
  return samples.map(
    (sample, index) =>
      ({
        ...sample,
        id: `${1700000000000 + index}-0`,
        runId,
        time: new Date(Date.UTC(2025, 0, 2, 12, 0, index)).toISOString(),
      }) as RunEvent,
  );
}

/**
 * `evolve/database.json` after generation 2 of a small evolve run (the circle-packing example of docs/evolve.md), in
 * line with the evolve samples above: c005 is the best, reached c000 → c002 → c005; c006 was rejected and c007 broke
 * correctness.
 */
export function sampleEvolveDatabase(): EvolveDatabaseFile {
  const candidate = (
    id: string,
    generation: number,
    island: number,
    parentIds: string[],
    rest: Partial<EvolveDatabaseFile['candidates'][number]> = {},
  ): EvolveDatabaseFile['candidates'][number] => ({
    candidateId: id,
    generation,
    island,
    parentIds,
    origin: parentIds.length === 0 ? 'initial' : 'diff',
    model: parentIds.length === 0 ? null : 'evolve-good',
    status: 'evaluated',
    score: null,
    metrics: {},
    error: null,
    summary: parentIds.length === 0 ? 'The uploaded program.' : `Change of ${id}.`,
    children: 0,
    durationMs: 800,
    similarTo: null,
    similarity: null,
    ...rest,
  });
  return {
    direction: 'maximize',
    program: 'program.py',
    generation: 2,
    candidates: [
      candidate('c000', 0, 0, [], { score: 0.9, metrics: { score: 0.9 }, children: 2 }),
      candidate('c001', 1, 0, ['c000'], { score: 0.8, metrics: { score: 0.8 }, model: 'evolve-flat' }),
      candidate('c002', 1, 1, ['c000'], { score: 1.2, metrics: { score: 1.2 }, children: 2 }),
      candidate('c003', 1, 0, ['c000'], { status: 'failed', error: 'Traceback\nSyntaxError: invalid syntax' }),
      candidate('c004', 2, 0, ['c002'], { score: 1.3, metrics: { score: 1.3 }, origin: 'rewrite' }),
      candidate('c005', 2, 1, ['c002'], {
        score: 1.71,
        metrics: { score: 1.71, circles: 9 },
        summary: 'Place the circles on a hexagonal lattice instead of a square grid.',
      }),
      candidate('c006', 2, 0, ['c002'], {
        status: 'rejected',
        origin: 'rewrite',
        model: 'evolve-flat',
        similarTo: 'c004',
        similarity: 1,
      }),
      candidate('c007', 2, 0, ['c004', 'c005'], {
        status: 'incorrect',
        origin: 'crossover',
        error: 'circles 2 and 3 overlap',
      }),
    ],
    islands: [
      ['c000', 'c001', 'c003', 'c004', 'c007'],
      ['c002', 'c005'],
    ],
    elites: ['c005', 'c004', 'c002'],
    best: 'c005',
    bestByGeneration: [
      { generation: 0, candidateId: 'c000', score: 0.9 },
      { generation: 1, candidateId: 'c002', score: 1.2 },
      { generation: 2, candidateId: 'c005', score: 1.71 },
    ],
    lineage: ['c000', 'c002', 'c005'],
    models: [
      { model: 'evolve-good', pulls: 4, improvements: 3, costUsd: 0.004 },
      { model: 'evolve-flat', pulls: 2, improvements: 0, costUsd: 0.002 },
    ],
    allocations: [
      { generation: 1, model: 'evolve-good', reason: 'evolve-good: not tried yet' },
      { generation: 2, model: 'evolve-good', reason: 'evolve-good: 2 of 2 children improved on their parent' },
    ],
    rejections: 1,
    recommendations: [{ text: 'Hexagonal placements beat square grids.', candidateIds: ['c005'] }],
  };
}
