import { emptyUsage, type RunError, type RunStage, Usage } from '@autolab/contracts';
import { z } from 'zod';
import { judgeExecution } from './experiment-results.js';
import { bestNode, ExperimentNode, formatNumber, goodNodes, nextStep, nodeIdFor, ResearchPlan } from './journal.js';
import { OutputStreamer } from './output-streamer.js';
import { fallbackSections, figureLatex, latexErrors, renderPaper, resultsTable, resultsTex } from './paper-latex.js';
import {
  type Clock,
  type Llm,
  LlmUnavailableError,
  type RunSink,
  type Sandbox,
  type SandboxFactory,
  type ToolCallResult,
  type ToolSpec,
} from './ports.js';
import {
  debugPrompt,
  draftPrompt,
  type ExperimentSubmission,
  experimentSystemPrompt,
  fixLatexPrompt,
  improvePrompt,
  type JournalView,
  type PaperSections,
  PLANNER_SYSTEM,
  paperPrompt,
  planPrompt,
  TOOLS,
  WRITER_SYSTEM,
} from './prompts.js';

export interface ResearchRunInput {
  runId: string;
  goal: string;
  maxIterations: number;
  budgetUsd: number;
  /** Wall-clock end of the run (epoch ms). */
  deadline: number;
  sandbox: { cpus: number; memoryMb: number; execTimeoutSeconds: number };
  /** What an earlier attempt of this run saved; null for a fresh start. */
  checkpoint: unknown | null;
  /** Hints from the user, read before every model call. */
  hints?: () => Promise<string[]>;
}

export interface ResearchPorts {
  llm: Llm;
  sandboxes: SandboxFactory;
  sink: RunSink;
  clock: Clock;
}

export type ResearchOutcome =
  | { status: 'succeeded' }
  | { status: 'failed'; error: RunError }
  /** The signal fired (cancel or worker shutdown); the checkpoint holds everything completed. */
  | { status: 'interrupted' };

/** Share of the budget kept for writing the paper; experiments stop when the rest is spent. */
export const WRITEUP_BUDGET_SHARE = 0.2;
/** Time kept for writing the paper; experiments stop this long before the deadline. */
const WRITEUP_TIME_MS = 3 * 60_000;
/** Fixes the model gets when the paper does not compile, before the engine falls back to its own text. */
export const MAX_LATEX_FIXES = 3;
/** Model answers in a row that are not a valid tool call before the run gives up on the model. */
const MAX_CONSECUTIVE_MALFORMED = 5;
const LATEX_TIMEOUT_MS = 180_000;
const OUTPUT_LIMITS = { maxFiles: 50, maxFileBytes: 20 * 1024 * 1024, maxTotalBytes: 100 * 1024 * 1024 };
const FIGURE_EXTENSIONS = /\.(png|jpe?g)$/i;

const Checkpoint = z.object({
  version: z.literal(1),
  plan: ResearchPlan.nullable(),
  nodes: z.array(ExperimentNode),
  usage: Usage,
  experimentsDone: z.boolean(),
  stopReason: z.string().nullable(),
  consecutiveMalformed: z.number().int(),
  warnedUnpriced: z.boolean(),
});
type Checkpoint = z.infer<typeof Checkpoint>;

class RunFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

class Interrupted extends Error {}

/**
 * One research run: plan → experiments (draft / debug / improve, each really executed in the sandbox) → paper.
 * Pure orchestration over the ports; state is checkpointed after every step so a new worker can resume it.
 */
export async function runResearch(
  input: ResearchRunInput,
  ports: ResearchPorts,
  signal: AbortSignal,
): Promise<ResearchOutcome> {
  const run = new ResearchRun(input, ports, signal);
  try {
    await run.execute();
    return { status: 'succeeded' };
  } catch (err) {
    if (signal.aborted || err instanceof Interrupted) return { status: 'interrupted' };
    if (err instanceof RunFailure) return { status: 'failed', error: { code: err.code, message: err.message } };
    if (err instanceof LlmUnavailableError)
      return { status: 'failed', error: { code: 'llm_unavailable', message: err.message } };
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof Error && err.name === 'SandboxError' ? 'sandbox_error' : 'internal_error';
    return { status: 'failed', error: { code, message } };
  } finally {
    await run.close();
  }
}

class ResearchRun {
  private state: Checkpoint;
  private python: Sandbox | null = null;
  /** Image of the experiment sandbox, kept after it closes for the paper's reproducibility note. */
  private pythonImageId = '';
  private readonly sink: RunSink;

  constructor(
    private readonly input: ResearchRunInput,
    private readonly ports: ResearchPorts,
    private readonly signal: AbortSignal,
  ) {
    this.sink = ports.sink;
    const restored = Checkpoint.safeParse(input.checkpoint);
    this.state = restored.success
      ? restored.data
      : {
          version: 1,
          plan: null,
          nodes: [],
          usage: emptyUsage(),
          experimentsDone: false,
          stopReason: null,
          consecutiveMalformed: 0,
          warnedUnpriced: false,
        };
  }

  async execute(): Promise<void> {
    if (!this.state.plan) await this.planStage();
    if (!this.state.experimentsDone) await this.experimentStage();
    await this.writeupStage();
  }

  async close(): Promise<void> {
    await this.python?.close().catch(() => undefined);
    this.python = null;
  }

  // ---------------------------------------------------------------- stages

  private async enterStage(stage: RunStage, message: string): Promise<void> {
    await this.sink.progress({ stage });
    await this.sink.emit({ type: 'stage.started', message, data: { stage } });
  }

  private async planStage(): Promise<void> {
    await this.enterStage('ideation', 'Ideation: turning the goal into a testable hypothesis and a metric.');
    for (let attempt = 1; attempt <= 4; attempt++) {
      if (!this.canCallModel())
        throw new RunFailure('budget_exhausted', 'the budget was spent before a plan was found');
      const reply = await this.ask('plan', PLANNER_SYSTEM, planPrompt(this.input.goal), [TOOLS.plan]);
      if (reply.ok) {
        const plan = reply.value as ResearchPlan;
        this.state.plan = plan;
        await this.sink.saveArtifact('plan.json', JSON.stringify(plan, null, 2));
        await this.sink.emit({
          type: 'plan.ready',
          message: `Plan: ${plan.title}. Primary metric: ${plan.metric.name} (${plan.metric.direction}).`,
          data: { title: plan.title, hypothesis: plan.hypothesis, metric: plan.metric },
        });
        await this.checkpoint();
        return;
      }
    }
    throw new RunFailure('no_plan', 'the model did not produce a valid research plan in 4 attempts');
  }

  private async experimentStage(): Promise<void> {
    await this.enterStage(
      'experiments',
      'Experiments: writing code, running it in the sandbox, learning from the results.',
    );
    const plan = this.state.plan!;
    const system = experimentSystemPrompt({
      cpus: this.input.sandbox.cpus,
      memoryMb: this.input.sandbox.memoryMb,
      timeoutSeconds: this.input.sandbox.execTimeoutSeconds,
    });
    for (;;) {
      this.throwIfInterrupted();
      const stop = this.experimentStopReason();
      if (stop) {
        this.state.stopReason = stop;
        break;
      }
      const step = nextStep(this.state.nodes, plan.metric.direction);
      const view = await this.journalView();
      const prompt =
        step.operator === 'draft'
          ? draftPrompt(view)
          : step.operator === 'debug'
            ? debugPrompt(view, step.parent!)
            : improvePrompt(view, step.parent!);
      const tools: ToolSpec[] = step.operator === 'improve' ? [TOOLS.improve, TOOLS.finish] : [TOOLS[step.operator]];
      const reply = await this.ask(step.operator, system, prompt, tools);
      if (!reply.ok) {
        this.state.consecutiveMalformed++;
        await this.checkpoint();
        if (this.state.consecutiveMalformed >= MAX_CONSECUTIVE_MALFORMED) {
          throw new RunFailure(
            'model_unusable',
            `${MAX_CONSECUTIVE_MALFORMED} model answers in a row were not valid tool calls`,
          );
        }
        continue;
      }
      this.state.consecutiveMalformed = 0;
      if (reply.tool === TOOLS.finish.name) {
        const { reason } = reply.value as { reason: string };
        this.state.stopReason = `the model judged the evidence sufficient: ${reason}`;
        break;
      }
      await this.runNode(step.operator, step.parent?.id ?? null, step.parent, reply.value as ExperimentSubmission);
    }
    this.state.experimentsDone = true;
    await this.checkpoint();
    await this.python?.close();
    this.python = null;
    const good = goodNodes(this.state.nodes).length;
    await this.sink.emit({
      type: 'stage.finished',
      message: `Experiments finished (${this.state.stopReason}): ${this.state.nodes.length} run, ${good} successful.`,
      data: { stage: 'experiments', reason: this.state.stopReason ?? '' },
    });
    if (good === 0) {
      throw new RunFailure(
        'no_successful_experiment',
        `none of the ${this.state.nodes.length} experiments produced "${plan.metric.name}"; the code and outputs are in the artifacts`,
      );
    }
  }

  private experimentStopReason(): string | null {
    const { nodes, usage } = this.state;
    if (nodes.length >= this.input.maxIterations) return `reached the limit of ${this.input.maxIterations} experiments`;
    if (usage.costUsd >= this.input.budgetUsd * (1 - WRITEUP_BUDGET_SHARE)) {
      return `spent $${usage.costUsd.toFixed(4)} of the $${this.input.budgetUsd} budget (the rest is kept for the paper)`;
    }
    if (this.ports.clock.now() >= this.input.deadline - WRITEUP_TIME_MS)
      return 'the time limit is near (time is kept for the paper)';
    return null;
  }

  // ---------------------------------------------------------------- one experiment

  private async runNode(
    operator: ExperimentNode['operator'],
    parentId: string | null,
    parent: ExperimentNode | null,
    submission: ExperimentSubmission,
  ): Promise<void> {
    const plan = this.state.plan!;
    const iteration = this.state.nodes.length + 1;
    const id = nodeIdFor(iteration);
    await this.sink.emit({
      type: 'node.created',
      message: `${id}: ${operator}${parentId ? ` of ${parentId}` : ''} — ${oneLine(submission.plan, 140)}`,
      data: { nodeId: id, parentId, operator, iteration, plan: submission.plan, stage: null },
    });
    const dir = `nodes/${id}`;
    await this.sink.saveArtifact(`${dir}/experiment.py`, submission.code);

    this.python ??= await this.ports.sandboxes.open('python', this.signal);
    const sandbox = this.python;
    this.pythonImageId = sandbox.imageId;
    await sandbox.reset();
    await sandbox.writeFiles([{ path: 'experiment.py', content: Buffer.from(submission.code) }]);
    const streamer = new OutputStreamer((stream, text) =>
      this.sink.emit({ type: 'exec.output', message: `${id} ${stream}`, data: { nodeId: id, stream, text } }),
    );
    const remainingMs = this.input.deadline - this.ports.clock.now();
    const timeoutMs = Math.max(5000, Math.min(this.input.sandbox.execTimeoutSeconds * 1000, remainingMs));
    const exec = await sandbox.exec(['python3', 'experiment.py'], {
      timeoutMs,
      signal: this.signal,
      onOutput: streamer.push,
    });
    await streamer.flush();
    this.throwIfInterrupted();

    const { files } = await sandbox.readFiles(OUTPUT_LIMITS);
    const results = files.find((f) => f.path === 'results.json')?.content ?? null;
    const judged = judgeExecution(exec, results, plan.metric.name, {
      timeoutSeconds: Math.round(timeoutMs / 1000),
      memoryMb: this.input.sandbox.memoryMb,
    });
    await this.sink.saveArtifact(`${dir}/stdout.txt`, exec.stdout.text);
    await this.sink.saveArtifact(`${dir}/stderr.txt`, exec.stderr.text);
    const figures: string[] = [];
    for (const file of files) {
      if (file.path === 'experiment.py') continue;
      const path = file.path === 'results.json' ? `${dir}/results.json` : `${dir}/files/${file.path}`;
      await this.sink.saveArtifact(path, file.content);
      if (FIGURE_EXTENSIONS.test(file.path) && figures.length < 10) figures.push(path);
    }

    const node: ExperimentNode = {
      id,
      parentId,
      operator,
      iteration,
      plan: submission.plan,
      code: submission.code,
      buggy: judged.buggy,
      exitCode: exec.exitCode,
      timedOut: exec.timedOut,
      outOfMemory: exec.outOfMemory,
      durationMs: exec.durationMs,
      metrics: judged.metrics,
      primary: judged.primary,
      error: judged.error,
      stdoutTail: exec.stdout.text.slice(-4000),
      stderrTail: exec.stderr.text.slice(-4000),
      debugDepth: operator === 'debug' ? (parent?.debugDepth ?? 0) + 1 : 0,
      figures,
    };
    const previousBest = bestNode(this.state.nodes, plan.metric.direction);
    this.state.nodes.push(node);
    await this.sink.saveArtifact(`${dir}/node.json`, JSON.stringify({ ...node, code: undefined }, null, 2));

    const seconds = (exec.durationMs / 1000).toFixed(1);
    await this.sink.emit({
      type: 'node.finished',
      message: node.buggy
        ? `${id} failed after ${seconds} s: ${node.error}`
        : `${id} ok in ${seconds} s: ${plan.metric.name} = ${formatNumber(node.primary!)}`,
      data: {
        nodeId: id,
        iteration,
        buggy: node.buggy,
        exitCode: node.exitCode,
        timedOut: node.timedOut,
        durationMs: node.durationMs,
        metrics: node.metrics,
        error: node.error,
        stdoutTail: exec.stdout.text.slice(-2000),
        stderrTail: exec.stderr.text.slice(-2000),
        analysis: null,
      },
    });
    for (const path of figures) {
      await this.sink.emit({
        type: 'figure.created',
        message: `${id} saved a figure: ${path}`,
        data: { nodeId: id, path },
      });
    }
    const best = bestNode(this.state.nodes, plan.metric.direction);
    if (best === node) {
      await this.sink.emit({
        type: 'metric.improved',
        message: `New best ${plan.metric.name}: ${formatNumber(node.primary!)}${previousBest ? ` (was ${formatNumber(previousBest.primary!)} in ${previousBest.id})` : ''}`,
        data: {
          nodeId: id,
          iteration,
          name: plan.metric.name,
          value: node.primary!,
          previous: previousBest?.primary ?? null,
          direction: plan.metric.direction,
        },
      });
    }
    await this.sink.progress({
      iteration,
      bestMetric: best
        ? {
            name: plan.metric.name,
            value: best.primary!,
            direction: plan.metric.direction,
            nodeId: best.id,
            iteration: best.iteration,
          }
        : null,
    });
    await this.checkpoint();
  }

  // ---------------------------------------------------------------- paper

  private async writeupStage(): Promise<void> {
    await this.enterStage('writeup', 'Writeup: writing the paper around the recorded results and compiling it.');
    const plan = this.state.plan!;
    const nodes = this.state.nodes;
    const best = bestNode(nodes, plan.metric.direction)!;
    const results = resultsTex(plan, nodes);
    const table = resultsTable(plan, nodes);

    const paperFiles: { path: string; content: Buffer }[] = [
      { path: 'results.tex', content: Buffer.from(results.tex) },
    ];
    let figure = '';
    const figurePath = best.figures[0] ?? [...goodNodes(nodes)].reverse().find((n) => n.figures.length > 0)?.figures[0];
    if (figurePath) {
      const bytes = await this.sink.loadArtifact(figurePath);
      if (bytes) {
        const ext = figurePath.slice(figurePath.lastIndexOf('.')).toLowerCase();
        const name = `figure1${ext}`;
        paperFiles.push({ path: name, content: bytes });
        const nodeId = figurePath.split('/')[1] ?? best.id;
        figure = figureLatex(name, nodeId, figurePath.split('/').at(-1)!);
        await this.sink.saveArtifact(`figures/${figurePath.split('/').at(-1)}`, bytes);
      }
    }
    await this.sink.saveArtifact('best/experiment.py', best.code);
    await this.sink.saveArtifact(
      'journal.json',
      JSON.stringify({ plan, nodes, stopReason: this.state.stopReason }, null, 2),
    );
    const bestResults = await this.sink.loadArtifact(`nodes/${best.id}/results.json`);
    if (bestResults) await this.sink.saveArtifact('best/results.json', bestResults);

    const hints = (await this.input.hints?.()) ?? [];
    let sections: PaperSections | null = null;
    if (this.canCallModel()) {
      const reply = await this.ask(
        'paper',
        WRITER_SYSTEM,
        paperPrompt({
          goal: this.input.goal,
          plan,
          nodes,
          macros: results.macros,
          tablePreview: table.preview,
          hasFigure: figure !== '',
          hints,
        }),
        [TOOLS.paper],
      );
      if (reply.ok) sections = reply.value as PaperSections;
    }
    let fallback = sections === null;
    sections ??= fallbackSections(this.input.goal, plan, nodes);

    const latex = await this.ports.sandboxes.open('latex', this.signal);
    try {
      const compile = async (attempt: number, s: PaperSections) => {
        const tex = renderPaper({
          runId: this.input.runId,
          date: new Date(this.ports.clock.now()).toISOString().slice(0, 10),
          sections: s,
          tableLatex: table.latex,
          figureLatex: figure,
          reproducibility: this.reproducibilityNote(best),
        });
        await this.sink.emit({
          type: 'paper.compiling',
          message: `Compiling the paper (attempt ${attempt}).`,
          data: { attempt },
        });
        const outcome = await this.compileLatex(latex, tex, paperFiles);
        if (!outcome.pdf) await this.paperFailed(attempt, outcome.log);
        return { tex, ...outcome };
      };
      let attempt = 1;
      let result = await compile(attempt, sections);
      for (let fix = 1; !result.pdf && fix <= MAX_LATEX_FIXES && !fallback; fix++) {
        if (!this.canCallModel()) break;
        const reply = await this.ask('latex_fix', WRITER_SYSTEM, fixLatexPrompt(sections, latexErrors(result.log)), [
          TOOLS.fixLatex,
        ]);
        if (!reply.ok) continue;
        sections = reply.value as PaperSections;
        result = await compile(++attempt, sections);
      }
      if (!result.pdf && !fallback) {
        await this.sink.emit({
          type: 'warning',
          message: 'The model could not make its LaTeX compile; writing the paper from the recorded data alone.',
          data: { code: 'paper_fallback', detail: latexErrors(result.log, 500) },
        });
        fallback = true;
        result = await compile(++attempt, fallbackSections(this.input.goal, plan, nodes));
      }
      await this.sink.saveArtifact('paper/paper.tex', result.tex);
      await this.sink.saveArtifact('paper/results.tex', results.tex);
      for (const f of paperFiles)
        if (f.path !== 'results.tex') await this.sink.saveArtifact(`paper/${f.path}`, f.content);
      if (result.log) await this.sink.saveArtifact('paper/paper.log', result.log);
      if (!result.pdf) {
        throw new RunFailure(
          'paper_compile_failed',
          'the paper did not compile, even from the generated fallback text; see paper/paper.log',
        );
      }
      await this.sink.saveArtifact('paper/paper.pdf', result.pdf);
      await this.sink.emit({
        type: 'paper.ready',
        message: `Paper ready: paper/paper.pdf (${Math.round(result.pdf.length / 1024)} KB${fallback ? ', fallback text' : ''}).`,
        data: { pdf: 'paper/paper.pdf', tex: 'paper/paper.tex', attempt, fallback },
      });
      await this.sink.progress({ stage: 'done' });
    } finally {
      await latex.close();
    }
  }

  private async paperFailed(attempt: number, log: string): Promise<void> {
    const errorTail = latexErrors(log, 1500);
    await this.sink.emit({
      type: 'paper.compile_failed',
      message: `The paper did not compile (attempt ${attempt}): ${oneLine(errorTail, 160)}`,
      data: { attempt, errorTail },
    });
  }

  private async compileLatex(
    sandbox: Sandbox,
    tex: string,
    files: { path: string; content: Buffer }[],
  ): Promise<{ pdf: Buffer | null; log: string }> {
    await sandbox.reset();
    await sandbox.writeFiles([{ path: 'paper.tex', content: Buffer.from(tex) }, ...files]);
    const exec = await sandbox.exec(
      ['latexmk', '-pdf', '-interaction=nonstopmode', '-halt-on-error', '-file-line-error', 'paper.tex'],
      { timeoutMs: LATEX_TIMEOUT_MS, signal: this.signal },
    );
    this.throwIfInterrupted();
    const { files: out } = await sandbox.readFiles(OUTPUT_LIMITS);
    const log =
      out.find((f) => f.path === 'paper.log')?.content.toString('utf8') ?? exec.stdout.text + exec.stderr.text;
    const pdf = out.find((f) => f.path === 'paper.pdf')?.content ?? null;
    return { pdf: exec.exitCode === 0 && pdf ? pdf : null, log };
  }

  private reproducibilityNote(best: ExperimentNode): string {
    const image = this.pythonImageId;
    return [
      `Every number in this paper was measured by experiment code that ran in a network-less, resource-limited`,
      `sandbox container${image ? ` (image \\texttt{${image.slice(0, 19)}})` : ''}; the values are read from the`,
      `\\texttt{results.json} files it wrote, through the macros in \\texttt{results.tex}. The best program`,
      `(${best.id}) is \\texttt{best/experiment.py} in the run archive; every experiment's code and output is under`,
      `\\texttt{nodes/}. Run: \\texttt{${this.input.runId.replace(/_/g, '\\_')}}.`,
    ].join('\n');
  }

  // ---------------------------------------------------------------- model calls, accounting, checkpoints

  private canCallModel(): boolean {
    return this.state.usage.costUsd < this.input.budgetUsd;
  }

  private async ask(purpose: string, system: string, prompt: string, tools: ToolSpec[]): Promise<ToolCallResult> {
    this.throwIfInterrupted();
    const reply = await this.ports.llm.callTool({ purpose, system, prompt, tools }, this.signal);
    const u = this.state.usage;
    u.calls += 1;
    u.promptTokens += reply.usage.promptTokens;
    u.completionTokens += reply.usage.completionTokens;
    u.totalTokens = u.promptTokens + u.completionTokens;
    u.costUsd += reply.usage.costUsd;
    await this.sink.progress({ usage: { ...u } });
    await this.sink.emit({
      type: 'cost.updated',
      message: `${purpose}: ${reply.usage.promptTokens}+${reply.usage.completionTokens} tokens, $${reply.usage.costUsd.toFixed(4)} (total $${u.costUsd.toFixed(4)} of $${this.input.budgetUsd})`,
      data: {
        purpose,
        model: reply.usage.model,
        promptTokens: reply.usage.promptTokens,
        completionTokens: reply.usage.completionTokens,
        costUsd: reply.usage.costUsd,
        total: { ...u },
        budgetUsd: this.input.budgetUsd,
      },
    });
    if (!reply.usage.priced && !this.state.warnedUnpriced) {
      this.state.warnedUnpriced = true;
      await this.sink.emit({
        type: 'warning',
        message: `No price is known for model "${reply.usage.model}": cost shows $0 and the budget cannot limit it (set AUTOLAB_MODEL_PRICES).`,
        data: { code: 'model_unpriced', detail: reply.usage.model },
      });
    }
    // Spend is part of the checkpoint: a resumed run must not forget what it already paid for.
    await this.checkpoint();
    if (!reply.ok) {
      await this.sink.emit({
        type: 'error',
        message: `The model's answer for "${purpose}" was unusable: ${reply.error}. Trying again.`,
        data: { code: 'malformed_model_reply', step: purpose, detail: `${reply.error}\n${reply.raw.slice(0, 1000)}` },
      });
    }
    return reply;
  }

  private async journalView(): Promise<JournalView> {
    return {
      goal: this.input.goal,
      plan: this.state.plan!,
      nodes: this.state.nodes,
      iterationsLeft: this.input.maxIterations - this.state.nodes.length,
      hints: (await this.input.hints?.()) ?? [],
    };
  }

  private async checkpoint(): Promise<void> {
    await this.sink.saveCheckpoint(this.state);
  }

  private throwIfInterrupted(): void {
    if (this.signal.aborted) throw new Interrupted('interrupted');
  }
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
