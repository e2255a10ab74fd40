import type { ExperimentStage } from '@autolab/contracts';
import { reportedMetrics, reportedResults } from './experiment-results.js';
import { startingCodeNode } from './inputs.js';
import { bestNode, type ExperimentNode, formatNumber, goodNodes, nodeIdFor, STAGE_ORDER } from './journal.js';
import { experimentLessons } from './lessons.js';
import { execute, runNode } from './node-runner.js';
import { clearPending, loseNode, resumePending, savePending } from './pending-nodes.js';
import { experimentSystemPrompt, JUDGE_SYSTEM, stepPrompt, tieBreakPrompt } from './prompts.js';
import { type RunContext, RunFailure } from './run-context.js';
import type { PendingNode, RunState } from './run-state.js';
import type { SandboxPool } from './sandbox-pool.js';
import { OPERATOR_TOOLS, TOOLS } from './tools.js';
import { chooseStep, STAGES, type Step, seededRandom, stageBudgets, stageComplete } from './tree-search.js';

/**
 * The experiment stages: baseline → tuning → research → ablation. Each step is one model call and (when the
 * answer is a program) one real execution in a sandbox; up to `nodeConcurrency` steps run at once, each with its own
 * sandbox. State is checkpointed after every node.
 */
export async function experimentStage(ctx: RunContext): Promise<void> {
  await ctx.enterStage(
    'experiments',
    'Experiments: writing code, running it in the sandbox, learning from the results.',
  );
  const pool = ctx.experimentSandboxes;
  try {
    const budgets = stageBudgets(ctx.input.maxIterations);
    for (const stage of STAGE_ORDER) {
      if (ctx.state.search.finishedStages.includes(stage)) continue;
      if (ctx.state.search.stopReason) break;
      await searchStage(ctx, stage, budgets[stage], pool);
    }
    ctx.state.search.stopReason ??= 'every stage is done';
    // Nodes that were running when an earlier worker died, in a stage the search did not come back to.
    for (const pending of [...ctx.state.pendingNodes]) {
      await loseNode(
        ctx,
        pending,
        `the worker stopped while it ran, and the experiments ended before it could run again: ${ctx.state.search.stopReason}`,
      );
    }
    if (goodNodes(ctx.state.nodes).length > 0) {
      await breakTie(ctx);
      await evaluateSeeds(ctx, pool);
    }
  } finally {
    // The sandboxes stay open for the figures (RunContext.closeExperimentSandboxes).
    ctx.state.sandboxImage = pool.imageId || ctx.state.sandboxImage;
  }
  ctx.state.experimentsDone = true;
  await ctx.sink.progress({ experimentStage: null });
  await ctx.checkpoint();
  const good = goodNodes(ctx.state.nodes).length;
  await ctx.emit({
    type: 'stage.finished',
    message: `Experiments finished (${ctx.state.search.stopReason}): ${ctx.state.nodes.length} run, ${good} successful.`,
    data: { stage: 'experiments', reason: ctx.state.search.stopReason },
  });
  if (good === 0) {
    throw new RunFailure(
      'no_successful_experiment',
      `none of the ${ctx.state.nodes.length} experiments produced "${ctx.state.plan!.metric.name}"; the code and outputs are in the artifacts`,
    );
  }
}

const ENTRY_HINT = 'main.py, run.py, train.py or experiment.py at its top level, or a single .py file';

async function searchStage(ctx: RunContext, stage: ExperimentStage, budget: number, pool: SandboxPool): Promise<void> {
  const { state, input } = ctx;
  const plan = state.plan!;
  const policy = input.policy.search;
  const system = experimentSystemPrompt({
    cpus: input.sandbox.cpus,
    memoryMb: input.sandbox.memoryMb,
    timeoutSeconds: input.sandbox.execTimeoutSeconds,
    image: input.sandboxImage,
  });
  state.search.stage = stage;
  await ctx.sink.progress({ experimentStage: stage });
  await ctx.emit({
    type: 'search.stage',
    message: `Stage ${stage}: ${STAGES[stage].goal} (up to ${budget} experiment${budget === 1 ? '' : 's'})`,
    data: { stage, goal: STAGES[stage].goal, iterations: budget },
  });

  const inflight = new Set<Promise<void>>();
  let launched = 0;
  let finishedByModel: string | null = null;
  let failure: unknown = null;
  const inStage = () => state.nodes.filter((n) => n.stage === stage).length;

  /** Ids taken by steps whose model call is still under way (their nodes are not pending yet). */
  const reserved = new Set<string>();
  const reserveId = (): string => {
    const taken = [...reserved].map((id) => Number(id.slice(1)) + 1);
    const id = nodeIdFor(Math.max(nextSequence(state), ...taken));
    reserved.add(id);
    return id;
  };
  const runStep = async (step: Step): Promise<void> => {
    const label = `${stage} ${step.operator}${step.parent ? ` of ${step.parent.id}` : ''}`;
    const hints = await ctx.hints(label);
    const lessons = await experimentLessons(ctx, step.operator, step.parent, label);
    const left = Math.max(0, budget - inStage());
    const prompt = stepPrompt(
      {
        goal: ctx.goalForPrompts,
        plan,
        nodes: state.nodes,
        insights: state.insights,
        stage,
        stageExperimentsLeft: left,
        hints,
        lessons,
      },
      step.operator,
      step.parent,
    );
    const tools =
      step.operator === 'draft' || step.operator === 'debug'
        ? [OPERATOR_TOOLS[step.operator]]
        : [OPERATOR_TOOLS[step.operator], TOOLS.finish];
    // The id the node will have is taken before the model writes it, so the transcript files the call under it. An
    // unusable reply (or finish_stage) gives the id back: the next step's calls go under the same id.
    const id = reserveId();
    let pending: PendingNode;
    try {
      const reply = await ctx.ask(step.operator, system, prompt, tools, undefined, id);
      if (!reply.ok) return;
      if (reply.tool === TOOLS.finish.name) {
        finishedByModel = reply.value.reason;
        return;
      }
      const submission = reply.value;
      // Saved before it runs: a worker that dies now leaves what the next one needs to run it again.
      pending = await savePending(ctx, {
        id,
        stage,
        operator: step.operator,
        parentId: step.parent?.id ?? null,
        plan: submission.plan,
        code: submission.code,
      });
    } finally {
      reserved.delete(id);
    }
    await runPending(pending, step.parent);
  };
  const runPending = async (pending: PendingNode, parent: ExperimentNode | null): Promise<void> => {
    const { id, operator, plan, code } = pending;
    await runNode(ctx, pool, { id, stage, operator, parent, plan, code });
    await clearPending(ctx, id);
  };
  /** A node that was running when the last worker died: run again (or recorded as lost) before anything new. */
  const redo = async (pending: PendingNode): Promise<void> => {
    const resumed = await resumePending(ctx, pending);
    if (resumed) await runPending(pending, resumed.parent);
  };
  const launch = (work: () => Promise<void>) => {
    const task: Promise<void> = work()
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => inflight.delete(task));
    inflight.add(task);
  };

  for (const pending of state.pendingNodes.filter((p) => p.stage === stage)) launch(() => redo(pending));
  // With starting code, the first node is the user's program as it is (no model call); the drafts that follow and
  // every later stage improve on what it measured.
  const startingCode = input.inputs.code;
  if (stage === 'baseline' && startingCode && state.nodes.length === 0 && state.pendingNodes.length === 0) {
    const start = startingCodeNode(startingCode);
    if (start) {
      const id = nodeIdFor(nextSequence(state));
      // Recorded with the pending node (one checkpoint): the paper reports the gain over what this node measures.
      state.startingCodeNodeId = id;
      const pending = await savePending(ctx, {
        id,
        stage,
        operator: 'draft',
        parentId: null,
        plan: start.plan,
        code: start.code,
      });
      launched++;
      launch(() => runPending(pending, null));
    } else {
      await ctx.emit({
        type: 'warning',
        message: `The starting code has no entry point (${ENTRY_HINT}); the model drafts from it instead of running it.`,
        data: { code: 'starting_code_without_entry', detail: ENTRY_HINT },
      });
    }
  }
  for (;;) {
    while (!failure && !finishedByModel && inflight.size < policy.nodeConcurrency) {
      ctx.throwIfInterrupted();
      if (ctx.experimentStopReason()) break;
      if (state.nodes.length + inflight.size >= input.maxIterations) break;
      if (stageComplete(stage, inStage() + inflight.size, budget, state.nodes)) break;
      const random = seededRandom(input.runId, state.nodes.length * 31 + launched);
      const step = chooseStep(stage, state.nodes, policy, plan.metric.direction, random);
      launched++;
      launch(() => runStep(step));
    }
    if (inflight.size === 0) break;
    await Promise.race(inflight);
  }
  if (failure) throw failure;
  state.search.stopReason = ctx.experimentStopReason();
  state.search.finishedStages.push(stage);
  await ctx.checkpoint();
  await ctx.emit({
    type: 'stage.finished',
    message: `Stage ${stage} done: ${finishedByModel ? `the model finished it (${finishedByModel})` : `${inStage()} experiment(s)`}.`,
    data: {
      stage,
      reason: finishedByModel
        ? `the model finished it: ${finishedByModel}`
        : (state.search.stopReason ?? `${inStage()} experiment(s) done`),
    },
  });
}

/** When several nodes share the best value exactly, the model chooses among them (the metric always decides first). */
async function breakTie(ctx: RunContext): Promise<void> {
  const { state } = ctx;
  const plan = state.plan!;
  const best = bestNode(state.nodes, plan.metric.direction)!;
  const tied = goodNodes(state.nodes).filter((n) => n.operator !== 'ablation' && n.primary === best.primary);
  if (tied.length < 2 || tied.some((n) => n.preferred) || !ctx.canCallModel('writeup')) return;
  const reply = await ctx.ask('tie_break', JUDGE_SYSTEM, tieBreakPrompt(plan, tied), [TOOLS.tieBreak]);
  if (!reply.ok) return;
  const { nodeId, reason } = reply.value;
  const chosen = tied.find((n) => n.id === nodeId);
  if (!chosen) return;
  chosen.preferred = true;
  const metric = { name: plan.metric.name, value: chosen.primary!, direction: plan.metric.direction };
  await ctx.emit({
    type: 'metric.improved',
    message: `${chosen.id} chosen as the best among ${tied.map((n) => n.id).join(', ')} (equal ${plan.metric.name}): ${reason}`,
    data: { nodeId: chosen.id, iteration: chosen.iteration, ...metric, previous: best.primary },
  });
  await ctx.sink.progress({ bestMetric: { ...metric, nodeId: chosen.id, iteration: chosen.iteration } });
  await ctx.checkpoint();
}

/** The next node number: after every finished, running and lost node (an id is never reused). */
function nextSequence(state: RunState): number {
  const used = [...state.nodes, ...state.pendingNodes, ...state.lostNodes].map((n) => Number(n.id.slice(1)));
  return used.length === 0 ? 1 : Math.max(...used) + 1;
}

/**
 * Re-runs the best program with `seeds` more seeds (the SEED environment variable), so the paper can report the
 * primary metric as mean ± standard deviation instead of one lucky number.
 */
async function evaluateSeeds(ctx: RunContext, pool: SandboxPool): Promise<void> {
  const { state } = ctx;
  const count = ctx.input.policy.seeds;
  if (state.seedsDone || count === 0) return;
  const plan = state.plan!;
  const best = bestNode(state.nodes, plan.metric.direction)!;
  const seeds = [0];
  const values = [best.primary!];
  const failed: number[] = [];
  const sandbox = await pool.acquire();
  try {
    for (let seed = 1; seed <= count; seed++) {
      ctx.throwIfInterrupted();
      if (ctx.ports.clock.now() >= ctx.input.deadline - 60_000) break;
      await ctx.emit({
        type: 'seed.started',
        message: `${best.id} with seed ${seed} of ${count}`,
        data: { nodeId: best.id, seed, of: count },
      });
      const { exec, files } = await ctx.heartbeat.during(`running ${best.id} with seed ${seed}`, () =>
        execute(ctx, sandbox, best.code, { nodeId: `${best.id}-seed${seed}`, seed, stream: false }),
      );
      const reported = reportedResults(files);
      if (reported) await ctx.sink.saveArtifact(`seeds/seed-${seed}/results.json`, reported.text);
      await ctx.sink.saveArtifact(`seeds/seed-${seed}/stdout.txt`, exec.stdout.text);
      // Read like the node's own results (nested names, final_info.json), so the seeds measure the same metric.
      const value = exec.exitCode === 0 ? reportedMetrics(reported)[plan.metric.name] : undefined;
      await ctx.emit({
        type: 'seed.finished',
        message:
          value !== undefined
            ? `${best.id} with seed ${seed}: ${plan.metric.name} = ${formatNumber(value)}`
            : `${best.id} with seed ${seed} failed (${exec.timedOut ? 'timed out' : `exit ${exec.exitCode}`})`,
        data: { nodeId: best.id, seed, value: value ?? null, durationMs: Math.round(exec.durationMs) },
      });
      if (value !== undefined) {
        seeds.push(seed);
        values.push(value);
      } else {
        failed.push(seed);
      }
    }
  } finally {
    pool.release(sandbox);
  }
  const ignored = seedsIgnored(values);
  // Identical values are reported as they are: summing them can leave a rounding residue (a std of 3e-17).
  const mean = ignored ? values[0]! : values.reduce((a, b) => a + b, 0) / values.length;
  const std =
    values.length > 1 && !ignored
      ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1))
      : 0;
  state.seeds = { nodeId: best.id, seeds, values, mean, std, failed, ignored };
  state.seedsDone = true;
  await ctx.sink.saveArtifact('seeds/summary.json', JSON.stringify(state.seeds, null, 2));
  await ctx.checkpoint(); // before the announcement: a worker killed after it does not run the seeds again
  const spread = ignored
    ? `${formatNumber(mean)} for every seed: the seeds had no effect (the program is deterministic or ignores SEED)`
    : `${formatNumber(mean)} ± ${formatNumber(std)}`;
  await ctx.emit({
    type: 'seeds.evaluated',
    message: `${best.id} over ${values.length} seeds: ${plan.metric.name} = ${spread}${failed.length ? ` (${failed.length} seed run(s) failed)` : ''}`,
    data: { nodeId: best.id, metric: plan.metric.name, seeds, values, mean, std, ignored },
  });
}

/**
 * Whether the seeds made no difference: at least two seeds ran and all gave exactly the same value. A program that
 * ignores SEED (or has no randomness) does this; AI-Scientist's templates often do.
 */
export function seedsIgnored(values: number[]): boolean {
  return values.length > 1 && values.every((v) => v === values[0]);
}
