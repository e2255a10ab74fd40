import type { NewEvent } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import type {
  CallUsage,
  ExecOptions,
  ExecResult,
  Llm,
  RunProgress,
  RunSink,
  Sandbox,
  SandboxFactory,
  SandboxFile,
  ToolCallRequest,
  ToolCallResult,
} from './ports.js';
import { runResearch } from './research-run.js';

/**
 * The orchestration logic with in-memory ports: which step comes next, what is recorded, how failures and budgets
 * are handled. The real adapters (Docker, Redis, HTTP model) are exercised by the integration tests.
 */

type Reply = { tool?: string; args?: unknown; malformed?: string };

class FakeLlm implements Llm {
  calls: ToolCallRequest[] = [];
  constructor(
    private readonly replies: Record<string, Reply[]>,
    private readonly costPerCall = 0.01,
  ) {}
  async callTool(request: ToolCallRequest): Promise<ToolCallResult> {
    this.calls.push(request);
    const key = request.tools[0]!.name;
    const queue = this.replies[key] ?? [];
    const reply = (queue.length > 1 ? queue.shift() : queue[0]) ?? { malformed: `no reply for ${key}` };
    const usage: CallUsage = {
      model: 'fake',
      promptTokens: request.prompt.length,
      completionTokens: 10,
      costUsd: this.costPerCall,
      priced: true,
    };
    if (reply.malformed) return { ok: false, error: reply.malformed, raw: '', usage };
    const tool = reply.tool ?? key;
    const spec = request.tools.find((t) => t.name === tool)!;
    return { ok: true, tool, value: spec.schema.parse(reply.args), usage };
  }
}

const text = (t: string) => ({ text: t, totalBytes: t.length, droppedBytes: 0 });

/** "Runs" experiment.py by interpreting a tiny language: `crash`, `metric <value>`, `latex-ok` / `latex-fail`. */
class FakeSandbox implements Sandbox {
  imageId = 'sha256:fake';
  files = new Map<string, Buffer>();
  async reset() {
    this.files.clear();
  }
  async writeFiles(files: SandboxFile[]) {
    for (const f of files) this.files.set(f.path, f.content);
  }
  async exec(command: string[], _options: ExecOptions): Promise<ExecResult> {
    const base = { timedOut: false, outOfMemory: false, durationMs: 5, stdout: text(''), stderr: text('') };
    if (command[0] === 'latexmk') {
      const tex = this.files.get('paper.tex')!.toString();
      if (tex.includes('BROKEN')) return { ...base, exitCode: 12, stderr: text('error') };
      this.files.set('paper.pdf', Buffer.from('%PDF-1.5 fake'));
      this.files.set('paper.log', Buffer.from('ok'));
      return { ...base, exitCode: 0 };
    }
    const code = this.files.get('experiment.py')!.toString();
    if (code.startsWith('crash'))
      return { ...base, exitCode: 1, stderr: text('Traceback\nValueError: shapes do not align') };
    const value = Number(code.split(' ')[1]);
    this.files.set('results.json', Buffer.from(JSON.stringify({ loss: value, other: { acc: 0.9 } })));
    return { ...base, exitCode: 0, stdout: text('training...\n') };
  }
  async readFiles() {
    return { files: [...this.files].map(([path, content]) => ({ path, content })), skipped: [] };
  }
  async close() {}
}

class MemorySink implements RunSink {
  events: NewEvent[] = [];
  progressLog: RunProgress[] = [];
  artifacts = new Map<string, Buffer>();
  checkpoints: unknown[] = [];
  async emit(event: NewEvent) {
    this.events.push(event);
  }
  async progress(progress: RunProgress) {
    this.progressLog.push(progress);
  }
  async saveCheckpoint(checkpoint: unknown) {
    this.checkpoints.push(structuredClone(checkpoint));
  }
  async saveArtifact(path: string, content: Buffer | string) {
    this.artifacts.set(path, Buffer.from(content));
  }
  async loadArtifact(path: string) {
    return this.artifacts.get(path) ?? null;
  }
}

const plan = {
  title: 'Scaling and convergence',
  hypothesis: 'Standardizing features speeds up gradient descent.',
  metric: { name: 'loss', direction: 'minimize', description: 'final training loss' },
  plan: 'Train with and without scaling.',
};
const paper = {
  title: 'T',
  abstract: 'We measured \\bestvalue.',
  introduction: 'I',
  method: 'M',
  results_discussion: 'R \\result{loss}',
  conclusion: 'C',
};

function setup(
  replies: Record<string, Reply[]>,
  overrides: Partial<Parameters<typeof runResearch>[0]> = {},
  cost = 0.01,
) {
  const llm = new FakeLlm(replies, cost);
  const sink = new MemorySink();
  const sandboxes: SandboxFactory = { open: async () => new FakeSandbox() };
  const input = {
    runId: 'run_test',
    goal: 'Does feature scaling speed up logistic regression?',
    maxIterations: 5,
    budgetUsd: 10,
    deadline: Date.now() + 3600_000,
    sandbox: { cpus: 1, memoryMb: 512, execTimeoutSeconds: 30 },
    checkpoint: null,
    ...overrides,
  };
  const run = () =>
    runResearch(input, { llm, sandboxes, sink, clock: { now: Date.now } }, new AbortController().signal);
  return { llm, sink, run, input };
}

const submit = (code: string) => ({ args: { plan: `try ${code}`, code } });

describe('runResearch', () => {
  it('drafts, debugs a crash, improves the best, and writes the paper from recorded numbers', async () => {
    const { llm, sink, run } = setup({
      propose_plan: [{ args: plan }],
      draft_experiment: [submit('crash')],
      debug_experiment: [submit('metric 0.5')],
      improve_experiment: [submit('metric 0.3'), { tool: 'finish_experiments', args: { reason: 'enough' } }],
      write_paper: [{ args: paper }],
    });
    const outcome = await run();
    expect(outcome).toEqual({ status: 'succeeded' });
    expect(llm.calls.map((c) => c.tools[0]!.name)).toEqual([
      'propose_plan',
      'draft_experiment',
      'debug_experiment',
      'improve_experiment',
      'improve_experiment',
      'write_paper',
    ]);
    // The debug prompt carried the real error of the failed node.
    expect(llm.calls[2]!.prompt).toContain('ValueError: shapes do not align');
    // The improve prompt carried the best node's measured value.
    expect(llm.calls[3]!.prompt).toContain('loss = 0.5');
    const finished = sink.events.filter((e) => e.type === 'node.finished');
    expect(finished.map((e) => (e.data as { buggy: boolean }).buggy)).toEqual([true, false, false]);
    const improved = sink.events
      .filter((e) => e.type === 'metric.improved')
      .map((e) => (e.data as { value: number }).value);
    expect(improved).toEqual([0.5, 0.3]);
    const resultsTex = sink.artifacts.get('paper/results.tex')!.toString();
    expect(resultsTex).toContain('\\newcommand{\\bestvalue}{\\ensuremath{0.3}}');
    expect(sink.artifacts.get('paper/paper.tex')!.toString()).toContain('\\textbf{\\ensuremath{0.3}}');
    expect(sink.artifacts.get('paper/paper.pdf')!.toString()).toMatch(/^%PDF/);
    expect(sink.artifacts.get('best/experiment.py')!.toString()).toBe('metric 0.3');
    expect(sink.artifacts.get('nodes/n001/stderr.txt')!.toString()).toContain('ValueError');
  });

  it('recovers from malformed model replies', async () => {
    const { sink, run } = setup({
      propose_plan: [{ malformed: 'no tool call' }, { args: plan }],
      draft_experiment: [{ malformed: 'bad json' }, submit('metric 0.4')],
      improve_experiment: [{ tool: 'finish_experiments', args: { reason: 'done' } }],
      write_paper: [{ malformed: 'schema' }],
    });
    expect(await run()).toEqual({ status: 'succeeded' });
    const errors = sink.events.filter((e) => e.type === 'error');
    expect(errors).toHaveLength(3);
    // The paper fell back to text generated from the data, and still compiled.
    const ready = sink.events.find((e) => e.type === 'paper.ready')!;
    expect((ready.data as { fallback: boolean }).fallback).toBe(true);
  });

  it('gives up on a model that never answers with a valid tool call', async () => {
    const { run } = setup({ propose_plan: [{ args: plan }], draft_experiment: [{ malformed: 'garbage' }] });
    const outcome = await run();
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.error.code).toBe('model_unusable');
  });

  it('stops experiments when the experiment share of the budget is spent, then still writes the paper', async () => {
    const { llm, sink, run } = setup(
      {
        propose_plan: [{ args: plan }],
        draft_experiment: [submit('metric 0.9')],
        improve_experiment: [submit('metric 0.8')],
        write_paper: [{ args: paper }],
      },
      { budgetUsd: 0.035 },
      0.01,
    );
    expect(await run()).toEqual({ status: 'succeeded' });
    // plan + draft + improve = 0.03 ≥ 80 % of 0.035: no more experiments; the paper call uses the reserve.
    expect(llm.calls.map((c) => c.tools[0]!.name)).toEqual([
      'propose_plan',
      'draft_experiment',
      'improve_experiment',
      'write_paper',
    ]);
    expect(sink.events.some((e) => e.type === 'stage.finished' && e.message.includes('budget'))).toBe(true);
  });

  it('feeds LaTeX errors back to the model and uses its fix', async () => {
    const { llm, sink, run } = setup({
      propose_plan: [{ args: plan }],
      draft_experiment: [submit('metric 0.2')],
      improve_experiment: [{ tool: 'finish_experiments', args: { reason: 'done' } }],
      write_paper: [{ args: { ...paper, method: 'BROKEN' } }],
      fix_latex: [{ args: paper }],
    });
    expect(await run()).toEqual({ status: 'succeeded' });
    expect(llm.calls.at(-1)!.tools[0]!.name).toBe('fix_latex');
    expect(sink.events.filter((e) => e.type === 'paper.compile_failed')).toHaveLength(1);
    expect((sink.events.find((e) => e.type === 'paper.ready')!.data as { attempt: number }).attempt).toBe(2);
  });

  it('fails clearly when no experiment ever works, keeping the outputs', async () => {
    const { sink, run } = setup(
      { propose_plan: [{ args: plan }], draft_experiment: [submit('crash')], debug_experiment: [submit('crash')] },
      { maxIterations: 3 },
    );
    const outcome = await run();
    expect(outcome.status === 'failed' && outcome.error.code).toBe('no_successful_experiment');
    expect(sink.artifacts.has('nodes/n003/experiment.py')).toBe(true);
  });

  it('resumes from a checkpoint without repeating finished steps', async () => {
    const first = setup(
      {
        propose_plan: [{ args: plan }],
        draft_experiment: [submit('metric 0.7')],
        improve_experiment: [submit('metric 0.6')],
        write_paper: [{ args: paper }],
      },
      { maxIterations: 1 },
    );
    await first.run();
    const checkpoint = first.sink.checkpoints.find(
      (c) => (c as { nodes: unknown[] }).nodes.length === 1 && !(c as { experimentsDone: boolean }).experimentsDone,
    );
    const second = setup(
      {
        improve_experiment: [submit('metric 0.6'), { tool: 'finish_experiments', args: { reason: 'ok' } }],
        write_paper: [{ args: paper }],
      },
      { maxIterations: 3, checkpoint },
    );
    second.sink.artifacts = first.sink.artifacts;
    expect(await second.run()).toEqual({ status: 'succeeded' });
    expect(second.llm.calls.map((c) => c.tools[0]!.name)).toEqual([
      'improve_experiment',
      'improve_experiment',
      'write_paper',
    ]);
  });
});
