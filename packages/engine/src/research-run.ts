import { runFailure } from '@autolab/contracts';
import { joinCheckpoint } from './checkpoint.js';
import { experimentStage } from './experiments.js';
import { figureStage } from './figures.js';
import { heldOutStage } from './held-out.js';
import { ideationStage } from './ideation.js';
import { previewInputs } from './inputs.js';
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
  try {
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
    await ports.sink.progress({ stage: 'done' });
    const { plan, nodes, startingCodeNodeId } = ctx.state;
    return {
      status: 'succeeded',
      startingCode: startingCodeGain(plan!, nodes, startingCodeNodeId, input.template?.name ?? null),
    };
  } catch (err) {
    if (signal.aborted || err instanceof Interrupted) return { status: 'interrupted' };
    if (err instanceof RunFailure) return { status: 'failed', error: runFailure(err.code, err.message) };
    if (err instanceof LlmUnavailableError)
      return { status: 'failed', error: runFailure('llm_unavailable', err.message) };
    if (err instanceof SandboxUnavailableError)
      return { status: 'failed', error: runFailure('docker_unavailable', err.message) };
    if (err instanceof ArtifactsUnavailableError)
      return { status: 'failed', error: runFailure('artifact_store_unavailable', err.message) };
    // Losing the run to a newer attempt is not this attempt's failure to report.
    if (err instanceof Error && err.name === 'RunSupersededError') throw err;
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof Error && err.name === 'SandboxError' ? 'sandbox_error' : 'internal_error';
    return { status: 'failed', error: runFailure(code, message) };
  } finally {
    ctx.heartbeat.stop();
    await ctx.closeExperimentSandboxes();
  }
}

export {
  MAX_CONSECUTIVE_MALFORMED,
  type ResearchOutcome,
  type ResearchPorts,
  type ResearchRunInput,
  WRITEUP_BUDGET_SHARE,
} from './run-context.js';
