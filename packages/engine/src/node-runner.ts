import type { ExperimentStage } from '@autolab/contracts';
import { describeSkipped, judgeExecution, reportedResults } from './experiment-results.js';
import { bestNode, type ExperimentNode, formatNumber, type Operator } from './journal.js';
import { OutputStreamer } from './output-streamer.js';
import {
  type ExecResult,
  type ProgramOutcome,
  type ReadFilesLimits,
  type Sandbox,
  type SandboxFile,
  SandboxStepError,
  type SkippedFile,
} from './ports.js';
import { JUDGE_SYSTEM, judgePrompt, MAX_INSIGHTS } from './prompts.js';
import type { RunContext } from './run-context.js';
import type { SandboxPool } from './sandbox-pool.js';
import { oneLine } from './text.js';
import { TOOLS } from './tools.js';

/** What is copied out of the sandbox after a program unless the run's input says otherwise. */
export const OUTPUT_LIMITS: ReadFilesLimits = {
  maxFiles: 50,
  maxFileBytes: 20 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
};
const FIGURE_EXTENSIONS = /\.(png|jpe?g)$/i;

export interface NodeRequest {
  id: string;
  stage: ExperimentStage;
  operator: Operator;
  parent: ExperimentNode | null;
  plan: string;
  code: string;
}

export interface Execution {
  exec: ExecResult;
  files: SandboxFile[];
  /** Files the program left that stayed in the sandbox (over the output limits, links, devices). */
  skipped: SkippedFile[];
  timeoutMs: number;
  /** Why the program could not be put into the sandbox or its files not be copied out; null when both worked. */
  sandboxError: string | null;
}

/**
 * Runs a program in a sandbox from a clean workspace (one `runProgram`: the sandbox clears, writes, runs and collects
 * in as few round trips as it can); returns what happened and the files it left. What a program
 * does to its sandbox (files that cannot be copied, a container it ended) comes back as `sandboxError` or in
 * `exec`, never as an exception: it fails this program, not the run.
 */
export async function execute(
  ctx: RunContext,
  sandbox: Sandbox,
  code: string,
  options: { nodeId: string; seed: number; stream: boolean },
): Promise<Execution> {
  const remainingMs = ctx.input.deadline - ctx.ports.clock.now();
  const timeoutMs = Math.max(5000, Math.min(ctx.input.sandbox.execTimeoutSeconds * 1000, remainingMs));
  const streamer = options.stream
    ? new OutputStreamer((stream, text) =>
        ctx.emit({
          type: 'exec.output',
          message: `${options.nodeId} ${stream}`,
          data: { nodeId: options.nodeId, stream, text },
        }),
      )
    : null;
  let outcome: ProgramOutcome;
  try {
    outcome = await sandbox.runProgram({
      files: [{ path: 'experiment.py', content: Buffer.from(code) }],
      command: ['python3', 'experiment.py'],
      exec: {
        timeoutMs,
        signal: ctx.signal,
        env: { SEED: String(options.seed) },
        ...(streamer ? { onOutput: streamer.push } : {}),
      },
      outputs: ctx.input.outputLimits ?? OUTPUT_LIMITS,
    });
    await streamer?.flush();
  } catch (err) {
    if (!(err instanceof SandboxStepError)) throw err;
    ctx.throwIfInterrupted();
    return {
      exec: notRun(),
      files: [],
      skipped: [],
      timeoutMs,
      sandboxError: `the program did not run: ${err.message}`,
    };
  }
  ctx.throwIfInterrupted();
  const { exec, files, skipped, outputError } = outcome;
  return { exec, files, skipped, timeoutMs, sandboxError: outputError };
}

/** The result of a program that never started. */
function notRun(): ExecResult {
  const empty = { text: '', totalBytes: 0, droppedBytes: 0 };
  return { exitCode: null, timedOut: false, outOfMemory: false, durationMs: 0, stdout: empty, stderr: empty };
}

/**
 * One node of the tree: run the code, judge the execution (the exit code and results.json decide; the model adds its
 * reading and may flag untrustworthy numbers), save everything, and fold the result into the run's state.
 */
export async function runNode(ctx: RunContext, pool: SandboxPool, request: NodeRequest): Promise<ExperimentNode> {
  const plan = ctx.state.plan!;
  const { id, operator, parent } = request;
  const iteration = Number(id.slice(1));
  await ctx.emit({
    type: 'node.created',
    message: `${id} (${request.stage}): ${operator}${parent ? ` of ${parent.id}` : ''} — ${oneLine(request.plan, 140)}`,
    data: { nodeId: id, parentId: parent?.id ?? null, operator, iteration, plan: request.plan, stage: request.stage },
  });
  const dir = `nodes/${id}`;
  // Written while the program runs; awaited with the other outputs (a node only counts once node.json is saved).
  const codeSaved = ctx.sink.saveArtifact(`${dir}/experiment.py`, request.code);
  codeSaved.catch(() => undefined); // raised where it is awaited, below

  const sandbox = await pool.acquire();
  let run: Awaited<ReturnType<typeof execute>>;
  try {
    run = await execute(ctx, sandbox, request.code, { nodeId: id, seed: 0, stream: true });
  } finally {
    pool.release(sandbox);
  }
  const { exec, files, timeoutMs } = run;
  const reported = reportedResults(files);
  const judged = judgeExecution(
    exec,
    reported,
    plan.metric.name,
    { timeoutSeconds: Math.round(timeoutMs / 1000), memoryMb: ctx.input.sandbox.memoryMb },
    run.sandboxError,
  );
  const skippedOutputs = describeSkipped(run.skipped);
  if (skippedOutputs) {
    await ctx.emit({
      type: 'warning',
      message: `${id}: ${skippedOutputs}`,
      data: { code: 'outputs_skipped', detail: skippedOutputs },
    });
  }

  // The outputs are written while the model reads them (below): neither needs the other, and both are on the path
  // between the program's end and node.finished.
  const saves = [
    codeSaved,
    ctx.sink.saveArtifact(`${dir}/stdout.txt`, exec.stdout.text),
    ctx.sink.saveArtifact(`${dir}/stderr.txt`, exec.stderr.text),
  ];
  // The node's results.json is what its metrics were read from (for final_info.json, the results derived from it),
  // so the paper's claims can point at it.
  if (reported) saves.push(ctx.sink.saveArtifact(`${dir}/results.json`, reported.text));
  const figures: string[] = [];
  for (const file of files) {
    if (file.path === 'experiment.py' || file.path === 'results.json') continue;
    const path = `${dir}/files/${file.path}`;
    saves.push(ctx.sink.saveArtifact(path, file.content));
    if (FIGURE_EXTENSIONS.test(file.path) && figures.length < 10) figures.push(path);
  }

  const node: ExperimentNode = {
    id,
    parentId: parent?.id ?? null,
    operator,
    stage: request.stage,
    iteration,
    plan: request.plan,
    code: request.code,
    buggy: judged.buggy,
    exitCode: exec.exitCode,
    timedOut: exec.timedOut,
    outOfMemory: exec.outOfMemory,
    durationMs: exec.durationMs,
    metrics: judged.metrics,
    primary: judged.primary,
    error: judged.error,
    analysis: null,
    stdoutTail: exec.stdout.text.slice(-4000),
    stderrTail: exec.stderr.text.slice(-4000),
    debugDepth: operator === 'debug' ? (parent?.debugDepth ?? 0) + 1 : 0,
    figures,
    preferred: false,
    skippedOutputs,
  };
  await Promise.all([...saves, applyModelJudgement(ctx, node, reported?.text ?? null)]);

  const previousBest = bestNode(ctx.state.nodes, plan.metric.direction);
  ctx.state.nodes.push(node);
  await ctx.sink.saveArtifact(`${dir}/node.json`, JSON.stringify({ ...node, code: undefined }, null, 2));
  // Saved before anyone is told it finished: a worker killed after node.finished must not run the node again.
  await ctx.checkpoint();
  const seconds = (exec.durationMs / 1000).toFixed(1);
  await ctx.emit({
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
      analysis: node.analysis,
      skippedOutputs,
    },
  });
  for (const path of figures) {
    await ctx.emit({ type: 'figure.created', message: `${id} saved a figure: ${path}`, data: { nodeId: id, path } });
  }
  const best = bestNode(ctx.state.nodes, plan.metric.direction);
  if (best === node) {
    await ctx.emit({
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
  await ctx.sink.progress({
    iteration: ctx.state.nodes.length,
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
  return node;
}

/**
 * The model's reading of an execution, through one validated tool call. It cannot rescue a crash, but it can flag a
 * result as untrustworthy, supply a metric that the program printed (verified against the output) but did not
 * write, and distil an insight. A malformed answer just leaves the engine's verdict alone.
 */
async function applyModelJudgement(ctx: RunContext, node: ExperimentNode, resultsJson: string | null): Promise<void> {
  if (!ctx.canCallModel('experiments')) return;
  const plan = ctx.state.plan!;
  const verdict = node.buggy ? `failed: ${node.error}` : `worked: ${plan.metric.name} = ${formatNumber(node.primary!)}`;
  const reply = await ctx.ask(
    'judge',
    JUDGE_SYSTEM,
    judgePrompt({ plan, node, resultsJson, engineVerdict: verdict }),
    [TOOLS.judge],
    undefined,
    node.id,
  );
  if (!reply.ok) return;
  const review = reply.value;
  node.analysis = review.summary;
  const ranCleanly = node.exitCode === 0 && !node.timedOut;
  if (!node.buggy && review.is_bug) {
    node.buggy = true;
    node.primary = null;
    node.error = `the model judged the results untrustworthy: ${oneLine(review.summary, 300)}`;
  } else if (
    node.buggy &&
    ranCleanly &&
    !review.is_bug &&
    review.metric !== null &&
    printedIn(review.metric, node.stdoutTail)
  ) {
    node.buggy = false;
    node.error = null;
    node.primary = review.metric;
    node.metrics = { ...node.metrics, [plan.metric.name]: review.metric };
    node.analysis = `${review.summary} (${plan.metric.name} read from the program's output, not from results.json)`;
  }
  if (review.insight) await addInsight(ctx, `${node.id}: ${review.insight}`);
}

/** Was this value printed by the program, to the precision it was printed with? */
export function printedIn(value: number, output: string): boolean {
  for (const [text] of output.matchAll(/-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g)) {
    const printed = Number(text);
    const [mantissa = '', exponent] = text.split(/[eE]/);
    const decimals = (mantissa.split('.')[1] ?? '').length;
    // An integer in the output ("epoch 3") only matches exactly; a decimal matches what rounds to it.
    if (decimals === 0 && exponent === undefined) {
      if (printed === value) return true;
      continue;
    }
    const tolerance = 0.5 * 10 ** (Number(exponent ?? 0) - decimals);
    if (Math.abs(printed - value) <= tolerance + 1e-12 * Math.abs(value)) return true;
  }
  return false;
}

export async function addInsight(ctx: RunContext, insight: string): Promise<void> {
  const insights = ctx.state.insights.filter((i) => i !== insight);
  insights.push(oneLine(insight, 400));
  ctx.state.insights = insights.slice(-MAX_INSIGHTS);
  await ctx.emit({
    type: 'insights.updated',
    message: `Insight: ${oneLine(insight, 200)}`,
    data: { insights: ctx.state.insights },
  });
}
