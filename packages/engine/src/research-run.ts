import { runFailure } from '@autolab/contracts';
import { joinCheckpoint } from './checkpoint.js';
import { learnFromEvolution } from './evolve-lessons.js';
import { writeEvolveReport } from './evolve-report.js';
import { Evolution } from './evolve-run.js';
import { experimentStage } from './experiments.js';
import { figureStage } from './figures.js';
import { heldOutStage } from './held-out.js';
import { ideationStage } from './ideation.js';
import { previewInputs } from './inputs.js';
import { distilLessons, recordSearchCounts } from './lessons.js';
import { writeManifest } from './manifest.js';
import { readPapers } from './papers.js';
import { ArtifactsUnavailableError, LlmUnavailableError, SandboxUnavailableError } from './ports.js';
import { reviewStage } from './review.js';
import {
  Interrupted,
  type ResearchOutcome,
  type ResearchPorts,
  type ResearchRunInput,
  RunContext,
  RunFailure,
} from './run-context.js';
import { restoreState, truncateForRerun } from './run-state.js';
import { startingCodeGain } from './starting-code-gain.js';
import { writeupStage } from './writeup.js';

/**
 * One research run: ideation → experiments (a staged tree search, each node really executed in a sandbox) → figures
 * → paper → review. Pure orchestration over the ports; the state is checkpointed after every model call and every
 * experiment, so a new worker resumes where the last one stopped, and a rerun starts again from a chosen stage.
 */
export async function runResearch(
  input: ResearchRunInput,
  ports: ResearchPorts,
  signal: AbortSignal,
): Promise<ResearchOutcome> {
  let { state } = restoreState(joinCheckpoint(input.checkpoint));
  const rerunPending = input.rerun !== null && state.rerunJobId !== input.rerun.jobId;
  if (input.rerun && rerunPending) state = truncateForRerun(state, input.rerun.fromStage, input.rerun.jobId);
  const ctx = new RunContext(input, ports, signal, state);
  ctx.heartbeat.start();
  let outcome: ResearchOutcome;
  try {
    outcome = input.evolve ? await evolve(ctx) : await research(ctx, rerunPending);
  } catch (err) {
    // Losing the run to a newer attempt is not this attempt's failure to report.
    if (err instanceof Error && err.name === 'RunSupersededError') throw err;
    outcome = failedOutcome(err, signal);
  } finally {
    await ctx.closeExperimentSandboxes();
  }
  try {
    return await learnFromRun(ctx, outcome);
  } finally {
    ctx.heartbeat.stop();
  }
}

/** The stages in order; each is skipped when the checkpoint says it is done. */
async function research(ctx: RunContext, rerunPending: boolean): Promise<ResearchOutcome> {
  if (rerunPending) await ctx.checkpoint();
  if (!ctx.state.plan) await previewInputs(ctx);
  if (!ctx.state.plan) await readPapers(ctx);
  if (!ctx.state.plan) await ideationStage(ctx);
  if (!ctx.state.experimentsDone) await experimentStage(ctx);
  if (ctx.input.evaluation && !ctx.state.heldOut) await heldOutStage(ctx);
  if (!ctx.state.figures.done) await figureStage(ctx);
  await ctx.closeExperimentSandboxes();
  if (!ctx.state.paperDone) await writeupStage(ctx);
  if (!ctx.state.reviewDone) await reviewStage(ctx);
  await writeManifest(ctx);
  const { plan, nodes, startingCodeNodeId } = ctx.state;
  return {
    status: 'succeeded',
    startingCode: startingCodeGain(plan!, nodes, startingCodeNodeId, ctx.input.template?.name ?? null),
  };
}

/** Evolve mode: the generations, then the best program and its report (docs/evolve.md). */
async function evolve(ctx: RunContext): Promise<ResearchOutcome> {
  if (!ctx.state.evolve) await ctx.enterStage('experiments', 'Evolving the program against its evaluator');
  else await ctx.sink.progress({ stage: ctx.state.evolve.stopReason ? 'writeup' : 'experiments' });
  const evolution = await Evolution.open(ctx);
  await evolution.run();
  await ctx.closeExperimentSandboxes();
  if (!evolution.state.reportDone) await writeEvolveReport(ctx, evolution);
  return { status: 'succeeded', startingCode: null };
}

function failedOutcome(err: unknown, signal: AbortSignal): ResearchOutcome {
  if (signal.aborted || err instanceof Interrupted) return { status: 'interrupted' };
  if (err instanceof RunFailure) return { status: 'failed', error: runFailure(err.code, err.message) };
  if (err instanceof LlmUnavailableError)
    return { status: 'failed', error: runFailure('llm_unavailable', err.message) };
  if (err instanceof SandboxUnavailableError)
    return { status: 'failed', error: runFailure('docker_unavailable', err.message) };
  if (err instanceof ArtifactsUnavailableError)
    return { status: 'failed', error: runFailure('artifact_store_unavailable', err.message) };
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof Error && err.name === 'SandboxError' ? 'sandbox_error' : 'internal_error';
  return { status: 'failed', error: runFailure(code, message) };
}

/** How long the lessons of a run that was stopped (cancelled, out of time) may still take to distil. */
export const LESSONS_AFTER_STOP_MS = 90_000;
/** The abort reason by which a worker hands the run to another (shutdown): the run goes on, so it is not distilled. */
export const HANDED_OVER = 'shutdown' as const;

/**
 * The run has ended (succeeded, failed, or was stopped by a cancel or its time limit): its lessons are distilled, then
 * `done`. A run handed to another worker has not ended; one that failed because the model or the artifact store is
 * unreachable cannot be distilled (the warning says so only for the first).
 */
async function learnFromRun(ctx: RunContext, outcome: ResearchOutcome): Promise<ResearchOutcome> {
  const handedOver = outcome.status === 'interrupted' && (!ctx.signal.aborted || ctx.signal.reason === HANDED_OVER);
  if (ctx.state.evolve) {
    // An evolve run's lessons are its recommendations, with the candidates they cite as evidence: no model call.
    if (!handedOver) await learnFromEvolution(ctx).catch(() => undefined);
    if (outcome.status === 'succeeded') await ctx.sink.progress({ stage: 'done' });
    return outcome;
  }
  // The search statistics need no model: every ended run counts (a store that cannot be reached costs only that).
  if (!handedOver) await recordSearchCounts(ctx).catch(() => undefined);
  switch (outcome.status) {
    case 'succeeded':
      try {
        await distilLessons(ctx, 'it succeeded: the paper was written and reviewed');
      } catch (err) {
        // Stopped while distilling: the next attempt finds every stage done and distils again.
        if (ctx.signal.aborted || err instanceof Interrupted) return { status: 'interrupted' };
        throw err;
      }
      await ctx.sink.progress({ stage: 'done' });
      return outcome;
    case 'failed':
      // Without the model or the store there is nothing to distil with, or nothing to read the evidence from.
      if (outcome.error.code === 'artifact_store_unavailable' || outcome.error.code === 'llm_unavailable')
        return outcome;
      await distilLessons(ctx, `it failed (${outcome.error.code}): ${outcome.error.message}`).catch(() => undefined);
      return outcome;
    case 'interrupted': {
      if (!ctx.signal.aborted || ctx.signal.reason === HANDED_OVER) return outcome;
      // The run's own signal has fired; the distillation gets a bounded one of its own.
      const after = new RunContext(ctx.input, ctx.ports, AbortSignal.timeout(LESSONS_AFTER_STOP_MS), ctx.state);
      const why = ctx.signal.reason === 'cancel' ? 'it was cancelled' : 'it was stopped at its time limit';
      await distilLessons(after, why).catch(() => undefined);
      return outcome;
    }
  }
}

export {
  MAX_CONSECUTIVE_MALFORMED,
  type ResearchOutcome,
  type ResearchPorts,
  type ResearchRunInput,
  WRITEUP_BUDGET_SHARE,
} from './run-context.js';
