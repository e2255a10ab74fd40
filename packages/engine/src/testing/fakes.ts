import type { NewEvent } from '@autolab/contracts';
import { type CheckpointWrite, joinCheckpoint, type StoredCheckpoint } from '../checkpoint.js';
import type { ExperimentNode } from '../journal.js';
import {
  type CallUsage,
  type ExecOptions,
  type ExecResult,
  type HintInbox,
  type LessonLibrary,
  type LiteratureSearch,
  LiteratureUnavailableError,
  type Llm,
  LlmUnavailableError,
  type ProgramRun,
  type RunProgress,
  type RunSink,
  type Sandbox,
  type SandboxFactory,
  type SandboxFile,
  type ToolCallRequest,
  type ToolCallResult,
} from '../ports.js';
import { runResearch } from '../research-run.js';
import type { ResearchRunInput } from '../run-context.js';

/**
 * In-memory ports for the engine's unit tests: a model that answers from a script keyed by tool name, a sandbox that
 * "runs" a tiny language instead of Python, and a sink that keeps everything. The real adapters (Docker, Redis, the
 * model over HTTP) are exercised by the integration tests.
 */

export type Reply = { tool?: string; args?: unknown; malformed?: string; unavailable?: string };

export class FakeLlm implements Llm {
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
      promptTokens: Math.ceil(request.prompt.length / 4),
      completionTokens: 10,
      cachedTokens: 0,
      estimated: false,
      costUsd: this.costPerCall,
      priced: true,
    };
    if (reply.unavailable) throw new LlmUnavailableError(reply.unavailable);
    if (reply.malformed) return { ok: false, error: reply.malformed, raw: '', usage };
    const tool = reply.tool ?? key;
    const spec = request.tools.find((t) => t.name === tool)!;
    return { ok: true, tool, value: spec.schema.parse(reply.args), usage };
  }
  tools(): string[] {
    return this.calls.map((c) => c.tools[0]!.name);
  }
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const text = (t: string) => ({ text: t, totalBytes: t.length, droppedBytes: 0 });

/** What a program that exited 0 at once with no output looks like, changed by `over`. */
export const execResult = (over: Partial<ExecResult> = {}): ExecResult => ({
  exitCode: 0,
  timedOut: false,
  outOfMemory: false,
  durationMs: 1,
  stdout: text(''),
  stderr: text(''),
  ...over,
});

/** A recorded draft that measured 0.5 (or, with `buggy: true`, one that crashed), changed by `over`. */
export function experimentNode(id: string, over: Partial<ExperimentNode> = {}): ExperimentNode {
  const buggy = over.buggy ?? false;
  return {
    id,
    parentId: null,
    operator: 'draft',
    stage: 'baseline',
    iteration: 0,
    plan: `plan of ${id}`,
    code: 'print(1)',
    buggy,
    exitCode: buggy ? 1 : 0,
    timedOut: false,
    outOfMemory: false,
    durationMs: 1,
    metrics: {},
    primary: buggy ? null : 0.5,
    error: buggy ? 'boom' : null,
    analysis: null,
    stdoutTail: '',
    stderrTail: '',
    debugDepth: 0,
    figures: [],
    preferred: false,
    skippedOutputs: null,
    ...over,
  };
}

/**
 * "Runs" programs written in a tiny language instead of Python: `crash`, `metric <v>` (v + SEED/1000), `fixed <v>`
 * (v whatever the SEED: a program that ignores it), `print <v>` (prints the value but writes no results.json),
 * `sleep <ms> metric <v>`; the user's starting code (the runpy wrapper) measures 0.6; plot.py writes a PNG (`crash`:
 * exits 1, `empty`: writes none); latexmk succeeds unless the document contains BROKEN, and reports one page per 1000
 * characters; the engine's fixed scripts over the inputs (`python3 -c …`) print `scriptOutput`, or fail without it.
 */
export class FakeSandbox implements Sandbox {
  constructor(private readonly scriptOutput: string | null = null) {}
  imageId = 'sha256:fakeimage';
  files = new Map<string, Buffer>();
  static running = 0;
  static maxRunning = 0;
  async reset() {
    this.files.clear();
  }
  async writeFiles(files: SandboxFile[]) {
    for (const f of files) this.files.set(f.path, f.content);
  }
  async exec(command: string[], options: ExecOptions): Promise<ExecResult> {
    const base = { timedOut: false, outOfMemory: false, durationMs: 5, stdout: text(''), stderr: text('') };
    if (command[0] === 'latexmk') {
      const tex = this.files.get('paper.tex')!.toString();
      const bib = this.files.get('references.bib')?.toString() ?? '';
      if (tex.includes('BROKEN') || bib.includes('BROKEN')) return { ...base, exitCode: 12, stderr: text('error') };
      this.files.set('paper.pdf', Buffer.from('%PDF-1.5 fake'));
      this.files.set(
        'paper.log',
        Buffer.from(`Output written on paper.pdf (${Math.ceil(tex.length / 1000)} pages, 1 bytes).`),
      );
      return { ...base, exitCode: 0 };
    }
    if (command[1] === '-c')
      return this.scriptOutput === null
        ? { ...base, exitCode: 1, stderr: text('Traceback\nOSError: no input script here') }
        : { ...base, exitCode: 0, stdout: text(this.scriptOutput) };
    if (command[1] === 'plot.py') {
      const plot = this.files.get('plot.py')!.toString();
      if (plot === 'crash') return { ...base, exitCode: 1, stderr: text('Traceback\nKeyError: metrics') };
      // A PNG signature, then the program: the "image" says which program drew it (`notpng`: a file that is not one).
      if (plot === 'notpng') this.files.set('metric.png', Buffer.from('png'));
      else if (plot !== 'empty') this.files.set('metric.png', Buffer.concat([PNG_SIGNATURE, Buffer.from(plot)]));
      return { ...base, exitCode: 0 };
    }
    const written = this.files.get('experiment.py')!.toString();
    const code = written.includes('runpy.run_path') ? 'metric 0.6' : written;
    const seed = Number(options.env?.SEED ?? 0);
    FakeSandbox.running++;
    FakeSandbox.maxRunning = Math.max(FakeSandbox.maxRunning, FakeSandbox.running);
    try {
      const sleep = /^sleep (\d+) /.exec(code);
      if (sleep) await new Promise((r) => setTimeout(r, Number(sleep[1])));
      const body = code.replace(/^sleep \d+ /, '');
      if (body.startsWith('crash'))
        return { ...base, exitCode: 1, stderr: text('Traceback\nValueError: shapes do not align') };
      const value = Number(body.split(' ')[1]);
      if (body.startsWith('print')) return { ...base, exitCode: 0, stdout: text(`final loss: ${value}\n`) };
      const loss = body.startsWith('fixed') ? value : value + seed / 1000;
      this.files.set('results.json', Buffer.from(JSON.stringify({ loss, other: { acc: 0.9 } })));
      return { ...base, exitCode: 0, stdout: text('training...\n') };
    } finally {
      FakeSandbox.running--;
    }
  }
  async readFiles() {
    return { files: [...this.files].map(([path, content]) => ({ path, content })), skipped: [] };
  }
  async runProgram(run: ProgramRun) {
    await this.reset();
    await this.writeFiles(run.files);
    const exec = await this.exec(run.command, run.exec);
    return { exec, ...(await this.readFiles()), outputError: null };
  }
  async close() {}
}

export class MemorySink implements RunSink {
  events: NewEvent[] = [];
  progressLog: RunProgress[] = [];
  artifacts = new Map<string, Buffer>();
  /** The whole state after each write, joined from what the writes stored (as a worker would load it back). */
  checkpoints: unknown[] = [];
  writes: CheckpointWrite[] = [];
  /** What a store holds after the writes so far. */
  stored: StoredCheckpoint | null = null;
  /** What the store held after each write. */
  storedAfter: StoredCheckpoint[] = [];
  async emit(event: NewEvent) {
    this.events.push(event);
  }
  async progress(progress: RunProgress) {
    this.progressLog.push(progress);
  }
  async saveCheckpoint(write: CheckpointWrite) {
    this.writes.push(write);
    const nodes = write.replace ? {} : { ...this.stored?.nodes };
    for (const [id, json] of Object.entries(write.nodes)) nodes[id] = JSON.parse(json);
    this.stored = { head: JSON.parse(write.head), nodes };
    this.storedAfter.push(structuredClone(this.stored));
    this.checkpoints.push(structuredClone(joinCheckpoint(this.stored)));
  }
  async saveArtifact(path: string, content: Buffer | string) {
    this.artifacts.set(path, Buffer.from(content));
  }
  async loadArtifact(path: string) {
    return this.artifacts.get(path) ?? null;
  }
  ofType(type: string) {
    return this.events.filter((e) => e.type === type);
  }
}

export const idea = (title: string, feasibility: number) => ({
  title,
  hypothesis: 'Standardizing features speeds up gradient descent.',
  experiments: 'Train with and without scaling.',
  metric: { name: 'loss', direction: 'minimize', description: 'final training loss' },
  interestingness: 6,
  feasibility,
  novelty: 5,
  search_queries: ['feature scaling gradient descent'],
});
export const paper = {
  title: 'Scaling and convergence',
  abstract: 'We measured \\bestvalue.',
  introduction: 'I',
  related_work: 'R',
  method: 'M',
  experimental_setup: 'E',
  results: 'R \\result{loss}',
  ablations: 'A',
  limitations: 'L',
  conclusion: 'C',
};
export const review = (overall: number) => ({
  summary: 'ok',
  strengths: ['clear'],
  weaknesses: ['small'],
  questions: [],
  soundness: 3,
  presentation: 3,
  contribution: 2,
  overall,
  confidence: 3,
  decision: overall >= 6 ? 'accept' : 'reject',
});
export const submit = (code: string) => ({ args: { plan: `try ${code}`, code } });
export const judge = (extra: Record<string, unknown> = {}) => ({
  args: { is_bug: false, summary: 'fine', metric: null, insight: null, ...extra },
});
export const finish = { tool: 'finish_stage', args: { reason: 'enough' } };

export function replies(overrides: Record<string, Reply[]> = {}): Record<string, Reply[]> {
  return {
    propose_ideas: [{ args: { ideas: [idea('Less feasible', 2), idea('Scaling and convergence', 9)] } }],
    refine_ideas: [{ args: { ideas: [idea('Less feasible', 2), idea('Scaling and convergence', 9)] } }],
    draft_experiment: [submit('crash')],
    debug_experiment: [submit('metric 0.5')],
    tune_experiment: [submit('metric 0.4')],
    improve_experiment: [submit('metric 0.3')],
    ablate_experiment: [submit('metric 0.1')],
    review_execution: [judge()],
    write_plot_code: [
      { args: { code: 'plot', captions: [{ file: 'metric.png', caption: 'The metric per experiment.' }] } },
    ],
    write_paper: [{ args: paper }],
    fix_latex: [{ args: paper }],
    submit_review: [{ args: review(6) }, { args: review(4) }, { args: review(7) }],
    submit_meta_review: [{ args: review(6) }],
    ...overrides,
  };
}

export interface Setup {
  input?: Partial<ResearchRunInput>;
  cost?: number;
  literature?: LiteratureSearch;
  hints?: HintInbox;
  lessons?: LessonLibrary;
  /** What the fixed scripts over the inputs print (null: they fail). */
  scriptOutput?: string;
}

export function setup(replyMap: Record<string, Reply[]>, options: Setup = {}) {
  const llm = new FakeLlm(replyMap, options.cost ?? 0.01);
  const sink = new MemorySink();
  const opened: string[] = [];
  const sandboxes: SandboxFactory = {
    open: async (kind) => {
      opened.push(kind);
      return new FakeSandbox(options.scriptOutput ?? null);
    },
  };
  const input: ResearchRunInput = {
    runId: 'run_test',
    goal: 'Does feature scaling speed up logistic regression?',
    models: { code: 'fake', judge: 'fake', writeup: 'fake', review: 'fake', ideas: 'fake', vision: null },
    maxIterations: 6,
    budgetUsd: 10,
    deadline: Date.now() + 3600_000,
    timeLimitMinutes: 60,
    sandbox: { cpus: 1, memoryMb: 512, execTimeoutSeconds: 30 },
    policy: {
      maxTokens: null,
      search: { numDrafts: 1, debugProb: 0.5, maxDebugDepth: 3, nodeConcurrency: 1 },
      ideation: { numIdeas: 2, reflections: 1 },
      review: { reviewers: 3, revise: false },
      seeds: 2,
      pageLimit: 8,
    },
    inputs: {},
    checkpoint: null,
    rerun: null,
    ...options.input,
  };
  const ports = {
    llm,
    sandboxes,
    sink,
    clock: { now: Date.now },
    ...(options.literature ? { literature: options.literature } : {}),
    ...(options.hints ? { hints: options.hints } : {}),
    ...(options.lessons ? { lessons: options.lessons } : {}),
  };
  const run = (signal = new AbortController().signal) => runResearch(input, ports, signal);
  return { llm, sink, run, input, opened };
}

export const offline: LiteratureSearch = {
  search: async () => {
    throw new LiteratureUnavailableError('connection refused');
  },
};
