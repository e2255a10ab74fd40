import { describe, expect, it } from 'vitest';
import { MAX_FIGURE_ATTEMPTS } from './figures.js';
import type { HintInbox, HintView, LiteratureSearch } from './ports.js';
import type { ResearchRunInput } from './run-context.js';
import {
  FakeSandbox,
  finish,
  idea,
  judge,
  type MemorySink,
  offline,
  paper,
  type Reply,
  replies,
  type Setup,
  setup,
  submit,
} from './testing/fakes.js';

/**
 * The orchestration logic with in-memory ports (testing/fakes.ts): which step comes next, what is recorded, how
 * failures, budgets, resumes and reruns behave.
 */

describe('runResearch', () => {
  it('runs ideation, the four search stages, seeds, figures, paper and review', async () => {
    const { llm, sink, run } = setup(replies({ improve_experiment: [submit('metric 0.3'), submit('metric 0.35')] }), {
      literature: offline,
    });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const tools = llm.tools().filter((t) => t !== 'review_execution');
    expect(tools).toEqual([
      'propose_ideas',
      'refine_ideas',
      'draft_experiment',
      'debug_experiment',
      'tune_experiment',
      'improve_experiment',
      'improve_experiment',
      'ablate_experiment',
      'write_plot_code',
      'write_paper',
      'submit_review',
      'submit_review',
      'submit_review',
      'submit_meta_review',
    ]);
    // The more feasible idea was chosen, and why is an event.
    expect(sink.ofType('idea.chosen')[0]!.data).toMatchObject({ title: 'Scaling and convergence' });
    expect(sink.ofType('warning').some((e) => (e.data as { code: string }).code === 'literature_unavailable')).toBe(
      true,
    );
    // The debug prompt carried the real error of the failed node; the judge ran once per node.
    expect(llm.calls.find((c) => c.tools[0]!.name === 'debug_experiment')!.prompt).toContain(
      'ValueError: shapes do not align',
    );
    expect(llm.tools().filter((t) => t === 'review_execution')).toHaveLength(6);
    // Each call of an experiment names its node (for the transcript): the call that wrote it, the one that judged it.
    const created = sink.ofType('node.created').map((e) => (e.data as { nodeId: string }).nodeId);
    const nodeCalls = llm.calls.filter((c) => c.nodeId).map((c) => `${c.nodeId} ${c.tools[0]!.name}`);
    expect(nodeCalls.slice(0, 4)).toEqual([
      'n001 draft_experiment',
      'n001 review_execution',
      'n002 debug_experiment',
      'n002 review_execution',
    ]);
    expect(new Set(llm.calls.map((c) => c.nodeId).filter(Boolean))).toEqual(new Set(created));
    expect(llm.calls.find((c) => c.tools[0]!.name === 'write_paper')!.nodeId).toBeUndefined();
    // Stages in order, one node per stage budget (6 = 2 baseline + 1 tuning + 2 research + 1 ablation).
    const stages = sink.ofType('node.created').map((e) => (e.data as { stage: string }).stage);
    expect(stages).toEqual(['baseline', 'baseline', 'tuning', 'research', 'research', 'ablation']);
    // The ablation measured a lower loss but is a comparison, never the best solution.
    const best = sink.progressLog.filter((p) => p.bestMetric).at(-1)!.bestMetric!;
    expect(best).toMatchObject({ nodeId: 'n004', value: 0.3 });
    // Seeds: the best program re-run with SEED=1,2 → 0.301, 0.302.
    const seeds = sink.ofType('seeds.evaluated')[0]!.data as {
      values: number[];
      mean: number;
      std: number;
      ignored: boolean;
    };
    expect(seeds.values).toEqual([0.3, 0.301, 0.302]);
    expect(seeds.ignored).toBe(false);
    expect(seeds.mean).toBeCloseTo(0.301, 6);
    expect(seeds.std).toBeCloseTo(0.001, 6);
    // The paper: numbers from results.tex, tables, the generated figure, claims traced to nodes.
    const tex = sink.artifacts.get('paper/paper.tex')!.toString();
    expect(tex).toContain('\\label{tab:ablations}');
    expect(tex).toContain('figure1.png');
    expect(sink.artifacts.get('paper/results.tex')!.toString()).toContain(
      '\\newcommand{\\bestvalue}{\\ensuremath{0.3}}',
    );
    const claims = JSON.parse(sink.artifacts.get('paper/claims.json')!.toString()).claims as {
      id: string;
      nodeId: string;
      artifact: string;
      value: number;
    }[];
    expect(claims.find((c) => c.id === 'tab:results:n004:loss')).toMatchObject({
      nodeId: 'n004',
      artifact: 'nodes/n004/results.json',
      value: 0.3,
    });
    expect(claims.find((c) => c.id === 'tab:ablations:n006:loss')).toMatchObject({ nodeId: 'n006', value: 0.1 });
    expect(claims.some((c) => c.id === 'fig:1')).toBe(true);
    // Review: three reviews and the model's meta-review.
    expect(sink.ofType('review.completed')[0]!.data).toEqual({
      overall: 6,
      decision: 'accept',
      confidence: 3,
      reviewers: 3,
    });
    expect(JSON.parse(sink.artifacts.get('review.json')!.toString()).reviews).toHaveLength(3);
    // The reproducibility bundle.
    const manifest = JSON.parse(sink.artifacts.get('manifest.json')!.toString());
    expect(manifest).toMatchObject({
      sandboxImage: 'sha256:fakeimage',
      seedVariable: 'SEED',
      best: { nodeId: 'n004' },
    });
    expect(sink.artifacts.get('best/reproduce.sh')!.toString()).toContain('--network none');
    expect(sink.artifacts.get('best/experiment.py')!.toString()).toBe('metric 0.3');
  });

  it('says when the seeds had no effect (a program that ignores SEED) instead of printing ± 0', async () => {
    const { llm, sink, run } = setup(
      replies({ debug_experiment: [submit('fixed 0.2')], tune_experiment: [finish], improve_experiment: [finish] }),
      { input: { maxIterations: 3 } },
    );
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const event = sink.ofType('seeds.evaluated')[0]!;
    expect(event.data).toMatchObject({ nodeId: 'n002', values: [0.2, 0.2, 0.2], std: 0, ignored: true });
    expect(event.message).toContain('the seeds had no effect (the program is deterministic or ignores SEED)');
    expect(JSON.parse(sink.artifacts.get('seeds/summary.json')!.toString())).toMatchObject({ ignored: true });
    const tex = sink.artifacts.get('paper/paper.tex')!.toString();
    expect(tex).toContain('n002 & same for all 3 seeds & \\ensuremath{0.2} (every seed)');
    expect(tex).toContain('the seeds had no effect (the program is deterministic or ignores SEED)');
    expect(tex).not.toContain('$\\pm$');
    // The writer is told too.
    const paperPrompt = llm.calls.find((c) => c.tools[0]!.name === 'write_paper')!.prompt;
    expect(paperPrompt).toContain('the seeds had no effect (the program is deterministic or ignores SEED): say so');
  });

  it("reports the gain of the best node over the user's starting code in the paper, the manifest and the outcome", async () => {
    const code = { uploadId: 'upl_code', files: [{ path: 'main.py', size: 100 }] };
    const { llm, sink, run } = setup(
      replies({ tune_experiment: [finish], improve_experiment: [submit('metric 0.45'), finish] }),
      { input: { maxIterations: 4, inputs: { code } } },
    );
    const outcome = await run();
    // The starting code counts as the one draft: n001 measured 0.6 (loss, minimized); the best, n002, 0.45.
    const gain = {
      metric: 'loss',
      direction: 'minimize',
      startNodeId: 'n001',
      startValue: 0.6,
      bestNodeId: 'n002',
      bestValue: 0.45,
      improved: true,
    };
    expect(outcome).toMatchObject({ status: 'succeeded', startingCode: gain });
    const startingCode = (outcome as { startingCode: { absolute: number; relative: number } }).startingCode;
    expect(startingCode.absolute).toBeCloseTo(-0.15, 12);
    expect(startingCode.relative).toBeCloseTo(-0.25, 12);
    expect(JSON.parse(sink.artifacts.get('manifest.json')!.toString()).startingCode).toMatchObject(gain);
    const tex = sink.artifacts.get('paper/paper.tex')!.toString();
    expect(tex).toContain('n001 & baseline / starting code &');
    expect(tex).toContain('n001 $\\to$ n002 & gain over the starting code & \\ensuremath{-0.15} (-25\\%)');
    expect(tex).toContain("change from the user's starting code (n001, run as it is: \\ensuremath{0.6})");
    const results = sink.artifacts.get('paper/results.tex')!.toString();
    expect(results).toContain('\\newcommand{\\startvalue}{\\ensuremath{0.6}}');
    expect(results).toContain('\\newcommand{\\gainabs}{\\ensuremath{-0.15}}');
    expect(results).toContain('\\newcommand{\\gainrel}{-25\\%}');
    // The writer is given the gain and the macros to cite it with.
    const paperPrompt = llm.calls.find((c) => c.tools[0]!.name === 'write_paper')!.prompt;
    expect(paperPrompt).toContain('0.6 → 0.45: -0.15 (-25%)');
    expect(paperPrompt).toContain('\\gainrel');
    const claims = JSON.parse(sink.artifacts.get('paper/claims.json')!.toString()).claims as { id: string }[];
    expect(claims.map((c) => c.id)).toContain('tab:results:n002:gain');
  });

  it('recovers from malformed model replies and falls back to a data-only paper', async () => {
    const { sink, run } = setup(
      replies({
        propose_ideas: [{ malformed: 'no tool call' }, { args: { ideas: [idea('Only idea', 8)] } }],
        draft_experiment: [{ malformed: 'bad json' }, submit('metric 0.4')],
        review_execution: [{ malformed: 'schema' }, judge()],
        write_paper: [{ malformed: 'schema' }],
      }),
      { input: { maxIterations: 2 } },
    );
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(
      sink.ofType('error').filter((e) => (e.data as { code: string }).code === 'malformed_model_reply'),
    ).toHaveLength(4);
    expect((sink.ofType('paper.ready')[0]!.data as { fallback: boolean }).fallback).toBe(true);
  });

  it('gives up on a model that never answers with a valid tool call', async () => {
    const { run } = setup(replies({ draft_experiment: [{ malformed: 'garbage' }] }));
    const outcome = await run();
    expect(outcome.status === 'failed' && outcome.error.code).toBe('model_unusable');
  });

  it('stops experiments when the experiment share of the budget is spent, then still writes the paper', async () => {
    // Each call costs $0.01: ideas, refine, draft, judge, debug, judge → $0.06 ≥ 80 % of $0.075.
    const { llm, sink, run } = setup(replies(), { input: { budgetUsd: 0.075, maxIterations: 20 } });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(sink.ofType('node.created')).toHaveLength(2);
    expect(sink.ofType('stage.finished').some((e) => e.message.includes('budget'))).toBe(true);
    // The reserve pays for the plots and the paper, at most one call past the cap.
    const spent = llm.calls.length * 0.01;
    expect(spent).toBeLessThanOrEqual(0.075 + 0.01 + 1e-9);
    expect(sink.artifacts.has('paper/paper.pdf')).toBe(true);
  });

  it('stops experimenting when the time limit is near, keeping time for the paper', async () => {
    // One minute: 30 % of it (18 s) is kept for the writeup, so experiments may start only in the first ~1.5 s.
    const { sink, run } = setup(replies({ draft_experiment: [submit('sleep 2000 metric 0.5')] }), {
      input: { maxIterations: 20, timeLimitMinutes: 1, deadline: Date.now() + 18_000 + 1_500 },
    });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(sink.ofType('node.created')).toHaveLength(1);
    expect(sink.ofType('stage.finished').some((e) => e.message.includes('time limit'))).toBe(true);
    expect(sink.ofType('paper.ready')).toHaveLength(1);
  });

  it('caps tokens the same way', async () => {
    const { sink, run } = setup(replies(), {
      input: { maxIterations: 20, policy: { ...setup(replies()).input.policy, maxTokens: 3000 } },
    });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(sink.ofType('stage.finished').some((e) => e.message.includes('tokens'))).toBe(true);
  });

  it('retries a figure that fails to render, with the error, and uses the one that works', async () => {
    const plot = (code: string) => ({ args: { code, captions: [{ file: 'metric.png', caption: 'The metric.' }] } });
    const { llm, sink, run } = setup(replies({ write_plot_code: [plot('crash'), plot('empty'), plot('plot')] }), {
      input: { maxIterations: 2 },
    });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const failures = sink.ofType('error').filter((e) => (e.data as { code: string }).code === 'figure_failed');
    expect(failures.map((e) => (e.data as { detail: string }).detail)).toEqual([
      'Traceback\nKeyError: metrics',
      'the program ran but wrote no PNG file',
    ]);
    // The second and third requests carry the previous attempt's error.
    const prompts = llm.calls.filter((c) => c.tools[0]!.name === 'write_plot_code').map((c) => c.prompt);
    expect(prompts[1]).toContain('KeyError: metrics');
    expect(prompts[2]).toContain('wrote no PNG file');
    expect(sink.ofType('figure.created').map((e) => (e.data as { path: string }).path)).toContain('figures/metric.png');
    expect(sink.artifacts.has('figures/metric.png')).toBe(true);
    expect(sink.ofType('warning').some((e) => (e.data as { code: string }).code === 'figures_skipped')).toBe(false);
  });

  it("draws the figures in the experiments' sandbox: one python sandbox for the whole run", async () => {
    const { opened, run } = setup(replies(), { literature: offline });
    expect((await run()).status).toBe('succeeded');
    expect(opened.filter((kind) => kind === 'python')).toHaveLength(1);
  });

  it('skips the figures after a bounded number of failures and still writes the paper', async () => {
    const { llm, sink, run } = setup(
      replies({
        write_plot_code: [{ args: { code: 'crash', captions: [{ file: 'metric.png', caption: 'The metric.' }] } }],
      }),
      {
        input: { maxIterations: 2 },
      },
    );
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(llm.tools().filter((t) => t === 'write_plot_code')).toHaveLength(MAX_FIGURE_ATTEMPTS);
    expect(sink.ofType('warning').filter((e) => (e.data as { code: string }).code === 'figures_skipped')).toHaveLength(
      1,
    );
    expect([...sink.artifacts.keys()].some((p) => p.startsWith('figures/'))).toBe(false);
    expect(sink.ofType('paper.ready')).toHaveLength(1);
  });

  it('sends a paper over the page limit back to be shortened, and keeps the best PDF if it cannot be', async () => {
    const long = { ...paper, introduction: 'Long. '.repeat(1500) };
    const shortened = setup(replies({ write_paper: [{ args: long }], fix_latex: [{ args: paper }] }), {
      input: { maxIterations: 2, policy: { ...setup(replies()).input.policy, pageLimit: 8 } },
    });
    expect(await shortened.run()).toEqual({ status: 'succeeded', startingCode: null });
    const problem = (shortened.sink.ofType('paper.compile_failed')[0]!.data as { errorTail: string }).errorTail;
    expect(problem).toMatch(/^The paper has \d+ pages; the limit is 8\. Shorten the prose\.$/);
    expect((shortened.sink.ofType('paper.ready')[0]!.data as { attempt: number }).attempt).toBe(2);

    const stubborn = setup(replies({ write_paper: [{ args: long }], fix_latex: [{ args: long }] }), {
      input: { maxIterations: 2, policy: { ...setup(replies()).input.policy, pageLimit: 8 } },
    });
    expect(await stubborn.run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(stubborn.llm.tools().filter((t) => t === 'fix_latex')).toHaveLength(3);
    const warnings = stubborn.sink.ofType('warning').map((e) => (e.data as { code: string }).code);
    expect(warnings).toContain('page_limit_exceeded');
    expect(stubborn.sink.artifacts.get('paper/paper.pdf')?.subarray(0, 4).toString()).toBe('%PDF');
  });

  it('revises the paper once from the meta-review when asked, keeping the reviewed version', async () => {
    const revised = { ...paper, limitations: 'Revised: only synthetic data, one model family.' };
    const { llm, sink, run } = setup(replies({ revise_paper: [{ args: revised }] }), {
      input: { maxIterations: 2, policy: { ...setup(replies()).input.policy, review: { reviewers: 2, revise: true } } },
    });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const tools = llm.tools();
    expect(tools.filter((t) => t === 'revise_paper')).toHaveLength(1);
    // The revision comes after the meta-review, and its prompt carries the meta-review's weaknesses.
    expect(tools.indexOf('revise_paper')).toBeGreaterThan(tools.indexOf('submit_meta_review'));
    const prompt = llm.calls.find((c) => c.tools[0]!.name === 'revise_paper')!.prompt;
    expect(prompt).toContain('small');
    expect(sink.artifacts.get('paper/paper.tex')!.toString()).toContain('Revised: only synthetic data');
    expect(sink.artifacts.has('paper/paper-reviewed.pdf')).toBe(true);
    expect(sink.ofType('paper.ready').map((e) => (e.data as { pdf: string }).pdf)).toEqual([
      'paper/paper.pdf',
      'paper/paper-revised.pdf',
    ]);
  });

  it('feeds LaTeX errors and unknown citations back to the model and uses its fix', async () => {
    const { llm, sink, run } = setup(
      replies({
        write_paper: [{ args: { ...paper, method: 'BROKEN' } }],
        fix_latex: [{ args: { ...paper, related_work: 'As shown by \\cite{madeup2020}.' } }, { args: paper }],
      }),
      { input: { maxIterations: 2 } },
    );
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(llm.tools().filter((t) => t === 'fix_latex')).toHaveLength(2);
    const problems = sink.ofType('paper.compile_failed').map((e) => (e.data as { errorTail: string }).errorTail);
    expect(problems[1]).toContain('Unknown citation keys: madeup2020');
    expect((sink.ofType('paper.ready')[0]!.data as { attempt: number }).attempt).toBe(3);
  });

  it('cites only what the literature search returned, from a generated references.bib', async () => {
    const literature: LiteratureSearch = {
      search: async () => ({
        source: 'fake',
        papers: [
          {
            id: 'p1',
            title: 'On the convergence of Adam & beyond',
            authors: ['Sashank J. Reddi'],
            year: 2018,
            venue: 'ICLR',
            abstract: null,
            url: null,
            doi: '10.1/x',
            citationCount: 10,
          },
        ],
      }),
    };
    const { llm, sink, run } = setup(
      replies({ write_paper: [{ args: { ...paper, related_work: 'See \\cite{reddi2018convergence}.' } }] }),
      {
        literature,
        input: { maxIterations: 2 },
      },
    );
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(llm.calls.find((c) => c.tools[0]!.name === 'write_paper')!.prompt).toContain('reddi2018convergence');
    expect(sink.artifacts.get('paper/references.bib')!.toString()).toContain('Adam \\& beyond');
    expect(sink.ofType('paper.compile_failed')).toHaveLength(0);
    expect(sink.ofType('literature.searched').length).toBeGreaterThan(0);
  });

  it('runs several experiments at once when nodeConcurrency allows', async () => {
    FakeSandbox.maxRunning = 0;
    const { llm, sink, run, input } = setup(
      replies({
        draft_experiment: [submit('sleep 80 metric 0.5')],
        tune_experiment: [submit('sleep 80 metric 0.4')],
        improve_experiment: [submit('sleep 80 metric 0.3')],
      }),
      { input: { maxIterations: 8 } },
    );
    input.policy.search = { numDrafts: 3, debugProb: 0.5, maxDebugDepth: 3, nodeConcurrency: 3 };
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(FakeSandbox.maxRunning).toBeGreaterThanOrEqual(2);
    const ids = sink.ofType('node.finished').map((e) => (e.data as { nodeId: string }).nodeId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(8);
    // Steps asked at once took different ids for the nodes they write, and each wrote the node it asked for.
    const writers = llm.calls.filter((c) => c.tools[0]!.name !== 'review_execution' && c.nodeId);
    expect(new Set(writers.map((c) => c.nodeId)).size).toBe(writers.length);
    expect(new Set(writers.map((c) => c.nodeId))).toEqual(new Set(ids));
  });

  it('keeps the prompt flat as the tree grows (iteration 40 vs 5)', async () => {
    const many = Array.from({ length: 60 }, (_, i) =>
      submit(`metric ${1 - i / 100}\n${'# a long enough program\n'.repeat(20)}`),
    );
    const { llm, run } = setup(
      replies({
        draft_experiment: many,
        tune_experiment: many,
        improve_experiment: many,
        ablate_experiment: many,
        review_execution: [judge({ insight: 'a reusable lesson with numbers 0.5' })],
      }),
      { input: { maxIterations: 44 } },
    );
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const experimentCalls = llm.calls.filter((c) => /_experiment$/.test(c.tools[0]!.name));
    const at5 = experimentCalls[4]!.prompt.length;
    const at40 = experimentCalls[39]!.prompt.length;
    expect(at40 / at5).toBeLessThanOrEqual(1.5);
  });

  it('lets the judge flag untrustworthy numbers and read a printed metric, but only a printed one', async () => {
    const { sink, run } = setup(
      replies({
        draft_experiment: [submit('print 0.7')],
        debug_experiment: [submit('print 0.6')],
        review_execution: [
          judge({ metric: 0.123 }),
          judge({ metric: 0.6 }),
          judge({ is_bug: true, summary: 'test data leaked' }),
          judge(),
        ],
        improve_experiment: [submit('metric 0.2'), finish],
        tune_experiment: [submit('metric 0.3')],
      }),
      { input: { maxIterations: 4 } },
    );
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const finished = sink
      .ofType('node.finished')
      .map((e) => e.data as { nodeId: string; buggy: boolean; error: string | null; analysis: string | null });
    // 0.123 was never printed: the node stays failed. 0.6 was: the debugged node counts, marked as read from output.
    expect(finished[0]).toMatchObject({ nodeId: 'n001', buggy: true });
    expect(finished[1]).toMatchObject({ nodeId: 'n002', buggy: false });
    expect(finished[1]!.analysis).toContain('read from the program');
    expect(finished[2]).toMatchObject({ nodeId: 'n003', buggy: true });
    expect(finished[2]!.error).toContain('test data leaked');
  });

  it('lets the model break an exact tie on the recorded metric', async () => {
    const { sink, run } = setup(
      replies({
        draft_experiment: [submit('metric 0.5')],
        tune_experiment: [submit('metric 0.5')],
        improve_experiment: [finish],
        ablate_experiment: [finish],
        choose_best: [{ args: { nodeId: 'n002', reason: 'simpler' } }],
      }),
      { input: { maxIterations: 4 } },
    );
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const best = sink.progressLog.filter((p) => p.bestMetric).at(-1)!.bestMetric!;
    expect(best).toMatchObject({ nodeId: 'n002', value: 0.5 });
    expect(sink.artifacts.get('best/experiment.py')!.toString()).toBe('metric 0.5');
    expect(JSON.parse(sink.artifacts.get('manifest.json')!.toString()).best.nodeId).toBe('n002');
  });

  it('fails clearly when no experiment ever works, keeping the outputs', async () => {
    const { sink, run } = setup(replies({ debug_experiment: [submit('crash')] }), { input: { maxIterations: 3 } });
    const outcome = await run();
    expect(outcome.status === 'failed' && outcome.error.code).toBe('no_successful_experiment');
    expect(sink.artifacts.has('nodes/n003/experiment.py')).toBe(true);
  });

  it('resumes from a checkpoint without repeating finished steps or their model calls', async () => {
    const first = setup(replies(), { input: { maxIterations: 6 } });
    await first.run();
    // The state right after the third node finished (as if the worker died during the fourth).
    const checkpoint = first.sink.checkpoints.find((c) => (c as { nodes: unknown[] }).nodes.length === 3)!;
    const callsBefore = first.llm.calls.findIndex(
      (_c, i) =>
        i > 0 && first.llm.calls.slice(0, i + 1).filter((x) => x.tools[0]!.name === 'review_execution').length === 3,
    );
    const second = setup(replies({ draft_experiment: [], debug_experiment: [], propose_ideas: [], refine_ideas: [] }), {
      input: { maxIterations: 6, checkpoint },
    });
    second.sink.artifacts = new Map(first.sink.artifacts);
    expect(await second.run()).toEqual({ status: 'succeeded', startingCode: null });
    const resumedTools = second.llm.tools();
    expect(resumedTools).not.toContain('propose_ideas');
    expect(resumedTools).not.toContain('draft_experiment');
    expect(resumedTools).not.toContain('tune_experiment');
    expect(second.sink.ofType('node.created').map((e) => (e.data as { nodeId: string }).nodeId)).toEqual([
      'n004',
      'n005',
      'n006',
    ]);
    expect(callsBefore).toBeGreaterThan(0);
  });

  it('writes each node once when it finishes, and only the small rest of the state after every model call', async () => {
    const { sink, run } = setup(replies(), { input: { maxIterations: 6 } });
    await run();
    const [first, ...later] = sink.writes;
    expect(first!.replace).toBe(true);
    expect(later.every((w) => !w.replace)).toBe(true);
    const writesOf = new Map<string, number>();
    for (const write of sink.writes)
      for (const id of Object.keys(write.nodes)) writesOf.set(id, (writesOf.get(id) ?? 0) + 1);
    expect([...writesOf.keys()].sort()).toEqual(['n001', 'n002', 'n003', 'n004', 'n005', 'n006']);
    // Written when it finishes; at most once more when a later step annotates it.
    for (const [id, count] of writesOf) expect(count, id).toBeLessThanOrEqual(2);
    const nodeBytes = sink.writes.reduce((sum, w) => sum + Object.values(w.nodes).join('').length, 0);
    const finalNodes = Object.values(sink.stored!.nodes).map((n) => JSON.stringify(n).length);
    expect(nodeBytes).toBeLessThanOrEqual(2 * finalNodes.reduce((a, b) => a + b, 0));
    // The head names the nodes in order and holds none of them.
    const head = sink.stored!.head as { nodeIds: string[]; nodes?: unknown };
    expect(head.nodeIds).toEqual(['n001', 'n002', 'n003', 'n004', 'n005', 'n006']);
    expect(head.nodes).toBeUndefined();
  });

  it('resumes from a stored checkpoint (head and nodes) like from a whole state, then writes every node again once', async () => {
    const first = setup(replies(), { input: { maxIterations: 6 } });
    await first.run();
    const stored = first.sink.storedAfter.find((c) => (c.head as { nodeIds: string[] }).nodeIds.length === 3)!;
    const second = setup(replies({ draft_experiment: [], debug_experiment: [], propose_ideas: [], refine_ideas: [] }), {
      input: { maxIterations: 6, checkpoint: structuredClone(stored) },
    });
    second.sink.artifacts = new Map(first.sink.artifacts);
    expect(await second.run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(second.llm.tools()).not.toContain('propose_ideas');
    expect(second.sink.ofType('node.created').map((e) => (e.data as { nodeId: string }).nodeId)).toEqual([
      'n004',
      'n005',
      'n006',
    ]);
    // The new attempt's first write replaces what is stored with every node it has.
    expect(second.sink.writes[0]!.replace).toBe(true);
    expect(Object.keys(second.sink.writes[0]!.nodes)).toEqual(['n001', 'n002', 'n003']);
    // A node the head names but the store lost: the checkpoint is refused as damaged (a fresh start), never half-read.
    const damaged = structuredClone(stored);
    delete damaged.nodes.n002;
    const third = setup(replies(), { input: { maxIterations: 2, checkpoint: damaged } });
    await third.run();
    expect(third.llm.tools()).toContain('propose_ideas');
  });

  describe('a worker that dies while parallel nodes run', () => {
    // Two drafts at once: n001 is slow, n002 quick. The worker "dies" right after n002 finished, while n001 ran.
    const parallel = (overrides: Record<string, Reply[]> = {}) =>
      replies({
        draft_experiment: [submit('sleep 200 metric 0.5'), submit('metric 0.6')],
        tune_experiment: [finish],
        improve_experiment: [finish],
        ablate_experiment: [finish],
        ...overrides,
      });
    // maxIterations 6: the baseline stage may run two experiments (its share), so both drafts belong to it.
    const options = (checkpoint: unknown = null): Setup => ({
      input: {
        maxIterations: 6,
        checkpoint,
        policy: {
          ...setup(replies()).input.policy,
          seeds: 0,
          search: { numDrafts: 2, debugProb: 0.5, maxDebugDepth: 3, nodeConcurrency: 2 },
        },
      },
    });
    type Saved = { nodes: { id: string }[] };
    /** The last state saved while n002 was the only finished node: what a kill -9 at that moment leaves. */
    async function killedAfterN002(): Promise<{ checkpoint: unknown; artifacts: Map<string, Buffer> }> {
      const first = setup(parallel(), options());
      expect(await first.run()).toEqual({ status: 'succeeded', startingCode: null });
      const ids = (c: unknown) => (c as Saved).nodes.map((n) => n.id).join(',');
      const checkpoint = first.sink.checkpoints.filter((c) => ids(c) === 'n002').at(-1);
      expect(checkpoint).toBeDefined();
      return { checkpoint, artifacts: new Map(first.sink.artifacts) };
    }

    it('redoes the node that was in flight with its plan and code, without asking the model again', async () => {
      const { checkpoint, artifacts } = await killedAfterN002();
      const second = setup(parallel({ draft_experiment: [] }), options(checkpoint));
      second.sink.artifacts = artifacts;
      expect(await second.run()).toEqual({ status: 'succeeded', startingCode: null });
      expect(second.llm.tools()).not.toContain('draft_experiment');
      const created = second.sink.ofType('node.created').map((e) => e.data as { nodeId: string; plan: string });
      expect(created).toEqual([expect.objectContaining({ nodeId: 'n001', plan: 'try sleep 200 metric 0.5' })]);
      const finished = second.sink.ofType('node.finished').map((e) => e.data as { nodeId: string; buggy: boolean });
      expect(finished).toEqual([expect.objectContaining({ nodeId: 'n001', buggy: false })]);
      expect(second.sink.ofType('warning').map((e) => (e.data as { code: string }).code)).toContain('node_redone');
      // Both drafts count: the baseline stage had two experiments, and the journal has both.
      const baseline = second.sink
        .ofType('stage.finished')
        .find((e) => (e.data as { stage: string }).stage === 'baseline');
      expect(baseline?.message).toContain('2 experiment(s)');
      const journal = JSON.parse(second.sink.artifacts.get('journal.json')!.toString());
      expect(journal.nodes.map((n: { id: string }) => n.id).sort()).toEqual(['n001', 'n002']);
      expect(journal.lost).toEqual([]);
      expect(second.sink.artifacts.get('nodes/n001/experiment.py')!.toString()).toBe('sleep 200 metric 0.5');
    });

    it('records a node it will not redo as lost, with the reason, and does not count it', async () => {
      const { checkpoint, artifacts } = await killedAfterN002();
      // The node already took the worker down as often as a node may: it is given up.
      const state = structuredClone(checkpoint) as { pendingNodes: { id: string; starts: number }[] };
      expect(state.pendingNodes.map((p) => p.id)).toEqual(['n001']);
      state.pendingNodes[0]!.starts = 3;
      const second = setup(parallel({ draft_experiment: [submit('metric 0.4')] }), options(state));
      second.sink.artifacts = artifacts;
      expect(await second.run()).toEqual({ status: 'succeeded', startingCode: null });
      const finished = second.sink.ofType('node.finished').map((e) => e.data as { nodeId: string; error: string });
      expect(finished[0]).toMatchObject({ nodeId: 'n001', buggy: true, exitCode: null });
      expect(finished[0]!.error).toMatch(/^lost: the worker stopped 3 times while it ran/);
      // The budget counts finished nodes only: the lost draft is replaced by a new one, with a new id.
      expect(second.sink.ofType('node.created').map((e) => (e.data as { nodeId: string }).nodeId)).toEqual(['n003']);
      const journal = JSON.parse(second.sink.artifacts.get('journal.json')!.toString());
      expect(journal.nodes.map((n: { id: string }) => n.id).sort()).toEqual(['n002', 'n003']);
      expect(journal.lost).toEqual([expect.objectContaining({ id: 'n001', reason: expect.stringMatching(/3 times/) })]);
    });

    it('records in-flight nodes as lost when the experiments may not go on (time or budget spent)', async () => {
      const { checkpoint, artifacts } = await killedAfterN002();
      const second = setup(parallel(), options(checkpoint));
      second.input.deadline = Date.now() + 60_000; // less than the time kept for the writeup
      second.sink.artifacts = artifacts;
      expect(await second.run()).toEqual({ status: 'succeeded', startingCode: null });
      const finished = second.sink.ofType('node.finished').map((e) => e.data as { nodeId: string; error: string });
      expect(finished).toEqual([expect.objectContaining({ nodeId: 'n001', buggy: true })]);
      expect(finished[0]!.error).toMatch(/^lost: .*time limit/);
      expect(second.sink.ofType('node.created')).toEqual([]);
    });

    it('loads a checkpoint of version 2 (before in-flight nodes were saved) and resumes from it', async () => {
      const { checkpoint, artifacts } = await killedAfterN002();
      const old = structuredClone(checkpoint) as Record<string, unknown>;
      delete old.pendingNodes;
      delete old.lostNodes;
      old.version = 2;
      const second = setup(parallel({ draft_experiment: [submit('metric 0.4')] }), options(old));
      second.sink.artifacts = artifacts;
      expect(await second.run()).toEqual({ status: 'succeeded', startingCode: null });
      // Resumed, not restarted: no ideation, n002 kept; the new checkpoint is of the current version.
      expect(second.llm.tools()).not.toContain('propose_ideas');
      expect((second.sink.checkpoints.at(-1) as { version: number }).version).toBe(3);
      const journal = JSON.parse(second.sink.artifacts.get('journal.json')!.toString());
      expect(journal.nodes.map((n: { id: string }) => n.id)).toContain('n002');
    });
  });

  it('reruns only the writeup and review, reusing the experiments', async () => {
    const first = setup(replies(), { input: { maxIterations: 2 } });
    await first.run();
    const final = first.sink.checkpoints.at(-1);
    const rerun = setup(replies({ write_paper: [{ args: { ...paper, title: 'Rewritten' } }] }), {
      input: { maxIterations: 2, checkpoint: final, rerun: { fromStage: 'writeup', jobId: 'job-2' } },
    });
    rerun.sink.artifacts = new Map(first.sink.artifacts);
    expect(await rerun.run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(rerun.llm.tools()).toEqual([
      'write_paper',
      'submit_review',
      'submit_review',
      'submit_review',
      'submit_meta_review',
    ]);
    expect(rerun.sink.artifacts.get('paper/paper.tex')!.toString()).toContain('Rewritten');
    // A re-delivered rerun job does not truncate again.
    const again = setup(replies(), {
      input: {
        maxIterations: 2,
        checkpoint: rerun.sink.checkpoints.at(-1),
        rerun: { fromStage: 'writeup', jobId: 'job-2' },
      },
    });
    again.sink.artifacts = rerun.sink.artifacts;
    expect(await again.run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(again.llm.calls).toHaveLength(0);
  });

  it('folds hints into the next prompt and says where they were applied', async () => {
    const hints: HintView[] = [{ id: 'h1', text: 'Try a learning rate of 0.5.', appliedAt: null }];
    const inbox: HintInbox = {
      list: async () => hints,
      markApplied: async (id, step) => {
        const hint = hints.find((h) => h.id === id)!;
        hint.appliedAt = step;
      },
    };
    const { llm, sink, run } = setup(replies(), { hints: inbox, input: { maxIterations: 2 } });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(llm.calls[0]!.prompt).toContain('Try a learning rate of 0.5.');
    expect(sink.ofType('hint.applied')).toHaveLength(1);
    expect(llm.calls.find((c) => c.tools[0]!.name === 'draft_experiment')!.prompt).toContain(
      'Try a learning rate of 0.5.',
    );
  });
});

describe('papers as an input', () => {
  const papers = { uploadId: 'upl_p', files: [{ path: 'grok.pdf', size: 10 }] };

  it('builds the ideas on them, lists them first in references.bib, and the paper may cite them', async () => {
    const extracted = {
      pdfs: [
        {
          file: 'grok.pdf',
          title: 'Grokking at the edge',
          author: 'Ada Example',
          pages: 3,
          excerpt: 'Zebra heads grok.',
          excerptFrom: 'abstract',
        },
      ],
      bibs: [
        {
          file: 'r.bib',
          entries: [{ type: 'article', key: 'smith2020sparse', fields: { title: 'Sparse {W}idgets', year: '2020' } }],
          problems: [],
        },
      ],
      others: [],
      omitted: { pdfs: 0, entries: 0 },
    };
    const cited = { ...paper, related_work: 'We build on \\cite{smith2020sparse,examplegrokking}.' };
    const { llm, sink, run } = setup(replies({ write_paper: [{ args: cited }] }), {
      input: { inputs: { papers } },
      scriptOutput: JSON.stringify(extracted),
    });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(sink.ofType('inputs.papers')[0]?.data).toMatchObject({
      references: [
        { key: 'smith2020sparse', from: 'bib' },
        { key: 'examplegrokking', from: 'pdf', file: 'grok.pdf' },
      ],
    });
    const ideas = llm.calls.find((c) => c.tools[0]!.name === 'propose_ideas')!.prompt;
    expect(ideas).toContain('- [examplegrokking] Grokking at the edge (Ada Example, n.d.): Zebra heads grok.');
    expect(llm.calls.find((c) => c.tools[0]!.name === 'draft_experiment')!.prompt).not.toContain('Zebra heads');
    expect(sink.artifacts.get('paper/references.bib')?.toString()).toMatch(
      /^@article\{smith2020sparse,[^@]*@misc\{examplegrokking,/,
    );
    expect(sink.ofType('paper.ready')[0]?.data).toMatchObject({ fallback: false });
    expect(JSON.parse(sink.artifacts.get('inputs.json')!.toString()).inputs.papers.uploadId).toBe('upl_p');
  });

  it('compiles the paper without the bibliography when even the generated text does not compile with it', async () => {
    const extracted = {
      pdfs: [],
      bibs: [
        {
          file: 'r.bib',
          entries: [{ type: 'misc', key: 'odd2021', fields: { title: 'A BROKEN entry', year: '2021' } }],
          problems: [],
        },
      ],
      others: [],
      omitted: { pdfs: 0, entries: 0 },
    };
    const { sink, run } = setup(replies(), { input: { inputs: { papers } }, scriptOutput: JSON.stringify(extracted) });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const codes = sink.ofType('warning').map((e) => (e.data as { code: string }).code);
    expect(codes).toEqual(expect.arrayContaining(['paper_fallback', 'paper_without_bibliography']));
    expect(sink.ofType('paper.ready')[0]?.data).toMatchObject({ fallback: true });
    expect(sink.artifacts.has('paper/references.bib')).toBe(false);
    expect(sink.artifacts.get('paper/paper.tex')?.toString()).not.toContain('\\cite{');
  });

  it('goes on without them, with a warning, when they cannot be read', async () => {
    const { sink, run } = setup(replies(), { input: { inputs: { papers } } });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const warning = sink.ofType('warning').find((e) => (e.data as { code: string }).code === 'papers_unreadable');
    expect(warning?.message).toContain('no input script here');
    expect(sink.ofType('inputs.papers')[0]?.data).toMatchObject({ references: [] });

    // Output that is not JSON (a script cut short) is the same: a warning, not a failed run.
    const cut = setup(replies(), { input: { inputs: { papers } }, scriptOutput: '{"pdfs": [' });
    expect(await cut.run()).toMatchObject({ status: 'succeeded' });
    const codes = cut.sink.ofType('warning').map((e) => (e.data as { code: string }).code);
    expect(codes).toContain('papers_unreadable');
  });
});

describe("the vision model's figure critique", () => {
  const plot = (code: string) => ({ args: { code, captions: [{ file: 'metric.png', caption: `Drawn by ${code}.` }] } });
  const verdict = (v: 'ok' | 'revise', problems: string[] = []) => ({
    args: { figures: [{ file: 'metric.png', verdict: v, problems }] },
  });
  const withVision = (overrides: Record<string, Reply[]>, input: Partial<ResearchRunInput> = {}) =>
    setup(replies({ write_plot_code: [plot('first'), plot('second'), plot('third')], ...overrides }), {
      input: {
        maxIterations: 2,
        models: { code: 'fake', judge: 'fake', writeup: 'fake', review: 'fake', ideas: 'fake', vision: 'seer' },
        ...input,
      },
    });
  const critiqued = (sink: MemorySink) => sink.ofType('figures.critiqued').map((e) => e.data);

  it('shows the figures as images, revises once with the problems in the prompt, and never twice', async () => {
    const problem = 'The y axis has no label: the reader cannot tell that it is the final loss.';
    const { llm, sink, run } = withVision({
      critique_figures: [verdict('revise', [problem]), verdict('revise', ['still bad'])],
    });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    const tools = llm.tools();
    expect(tools.filter((t) => t === 'critique_figures')).toHaveLength(1);
    expect(tools.filter((t) => t === 'write_plot_code')).toHaveLength(2);
    // Figures first, then the critique, then the one revision, then the paper.
    expect(tools.slice(tools.indexOf('write_plot_code'), tools.indexOf('write_paper'))).toEqual([
      'write_plot_code',
      'critique_figures',
      'write_plot_code',
    ]);
    const critique = llm.calls.find((c) => c.tools[0]!.name === 'critique_figures')!;
    expect(critique.role).toBe('vision');
    expect(critique.prompt).toContain('metric.png: Drawn by first.');
    expect(critique.images?.map((i) => [i.name, i.mediaType, i.data.subarray(8).toString()])).toEqual([
      ['metric.png', 'image/png', 'first'],
    ]);
    const revision = llm.calls.filter((c) => c.tools[0]!.name === 'write_plot_code')[1]!;
    expect(revision.role).toBe('writeup');
    expect(revision.images).toBeUndefined();
    expect(revision.prompt).toContain(`- metric.png: ${problem}`);
    expect(revision.prompt).toContain('```python\nfirst\n```');
    // The revised figure replaced the first one, and the paper uses it.
    expect(sink.artifacts.get('figures/metric.png')!.subarray(8).toString()).toBe('second');
    expect(sink.artifacts.get('figures/plot.py')!.toString()).toBe('second');
    const paperPrompt = llm.calls.find((c) => c.tools[0]!.name === 'write_paper')!.prompt;
    expect(paperPrompt).toContain('Drawn by second.');
    expect(critiqued(sink)).toEqual([
      {
        model: 'seer',
        figures: [{ file: 'metric.png', verdict: 'revise', problems: [problem] }],
        skipped: [],
        revision: 'done',
      },
    ]);
    expect(JSON.parse(sink.artifacts.get('figures/critique.json')!.toString())).toMatchObject({
      model: 'seer',
      revision: 'done',
      failed: null,
    });
  });

  it('does not revise figures the vision model finds fine', async () => {
    const { llm, sink, run } = withVision({ critique_figures: [verdict('ok')] });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(llm.tools().filter((t) => t === 'write_plot_code')).toHaveLength(1);
    expect(critiqued(sink)).toMatchObject([{ figures: [{ verdict: 'ok', problems: [] }], revision: 'none' }]);
  });

  it('without a vision model, no figure is critiqued', async () => {
    const { llm, sink, run } = setup(replies(), { input: { maxIterations: 2 } });
    expect(await run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(llm.calls.some((c) => c.role === 'vision' || c.images)).toBe(false);
    expect(critiqued(sink)).toEqual([]);
    expect(sink.artifacts.has('figures/critique.json')).toBe(false);
  });

  it('a resumed run neither asks for the critique again nor redraws the figures it saw', async () => {
    const first = withVision({ critique_figures: [verdict('revise', ['no legend'])] });
    await first.run();
    // The state right after the critique was saved (as if the worker died during the revision).
    const checkpoint = first.sink.checkpoints.find(
      (c) => (c as { figures: { critique: { revision: string } | null } }).figures.critique?.revision === 'pending',
    );
    expect(checkpoint).toBeDefined();
    const second = withVision(
      { critique_figures: [], write_plot_code: [plot('second')] },
      { checkpoint: structuredClone(checkpoint) },
    );
    second.sink.artifacts = new Map(first.sink.artifacts);
    expect(await second.run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(second.llm.tools().filter((t) => t === 'critique_figures' || t === 'write_plot_code')).toEqual([
      'write_plot_code',
    ]);
    expect(second.llm.calls.find((c) => c.tools[0]!.name === 'write_plot_code')!.prompt).toContain('no legend');
    expect(critiqued(second.sink)).toMatchObject([{ revision: 'done' }]);
  });

  it('an unusable critique, an unreachable vision model or a figure that is not a PNG leaves the figures as drawn', async () => {
    const malformed = withVision({ critique_figures: [{ malformed: 'not a tool call' }] });
    expect(await malformed.run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(malformed.llm.tools().filter((t) => t === 'write_plot_code')).toHaveLength(1);
    const warnings = malformed.sink.ofType('warning').map((e) => e.data as { code: string; detail: string });
    expect(warnings).toContainEqual({ code: 'figure_critique_failed', detail: 'not a tool call' });

    const refused = withVision({
      critique_figures: [{ unavailable: 'model call failed after 1 attempt(s): 400 image_url is not supported' }],
    });
    expect(await refused.run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(refused.sink.ofType('warning').map((e) => e.data)).toContainEqual({
      code: 'figure_critique_failed',
      detail: 'model call failed after 1 attempt(s): 400 image_url is not supported',
    });

    const notPng = withVision({ write_plot_code: [plot('notpng')], critique_figures: [verdict('revise', ['x'])] });
    expect(await notPng.run()).toEqual({ status: 'succeeded', startingCode: null });
    expect(notPng.llm.tools()).not.toContain('critique_figures');
    expect(JSON.parse(notPng.sink.artifacts.get('figures/critique.json')!.toString())).toMatchObject({
      skipped: [{ file: 'metric.png', reason: 'not a PNG file' }],
      failed: 'no figure could be shown',
    });
  });
});
