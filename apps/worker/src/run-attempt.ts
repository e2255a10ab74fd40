import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFinalStatus } from '@autolab/contracts';
import { joinCheckpoint, type LiteratureSearch, type ResearchOutcome, runResearch } from '@autolab/engine';
import { type DockerClient, DockerSandboxFactory, removeRunContainers, type WarmPool } from '@autolab/sandbox';
import {
  type ArtifactStore,
  ArtifactStoreUnavailableError,
  type CancelSignal,
  type HintStore,
  type LessonEmbeddings,
  type LessonStore,
  type ModelModeStore,
  type RunJobData,
  type RunStore,
  type SearchStatsStore,
  type UploadStore,
} from '@autolab/store';
import type { TemplateCatalog } from '@autolab/templates';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { WorkerConfig } from './env.js';
import type { WorkerMetrics } from './metrics.js';
import { evolveInput, NO_INPUTS, type ResolvedInputs, resolveInputs } from './run-inputs.js';
import { runModelRouter } from './run-models.js';
import { failedOutcome, outcomeStatus, RunSetupError, recordOutcome, type StopReason } from './run-outcome.js';
import { runPorts } from './run-ports.js';
import { redactValue, workerSecrets } from './secrets.js';
import { Transcript } from './transcript.js';

/** After the run's time limit, how long the writeup may still take before the run is stopped hard. */
const HARD_DEADLINE_GRACE_MS = 5 * 60_000;

export interface RunAttemptDeps {
  config: WorkerConfig;
  log: Logger;
  runs: RunStore;
  artifacts: ArtifactStore;
  uploads: UploadStore;
  templates: TemplateCatalog;
  cancel: CancelSignal;
  hints: HintStore;
  lessons: LessonStore;
  searchStats: SearchStatsStore;
  /** Hybrid lesson retrieval (AUTOLAB_EMBEDDINGS_MODEL), or null. */
  embeddings: LessonEmbeddings | null;
  modelModes: ModelModeStore;
  docker: DockerClient;
  deployment: string;
  warm: WarmPool;
  metrics: WorkerMetrics;
  /** One client for all runs, so a rate-limited or unreachable service is remembered across them. */
  literature: LiteratureSearch | undefined;
  /** The runs this worker is working on, each with the controller that stops it. */
  active: Map<string, AbortController>;
}

/**
 * The BullMQ processor of run jobs: one attempt of a run. It marks the run started (or skips a run that is finished,
 * cancelled or taken), opens what the attempt needs (its inputs, sandboxes, models, transcript), drives the engine
 * until it ends or its signal fires (cancel, time limit, shutdown), cleans up, and records the outcome.
 */
export function runProcessor(deps: RunAttemptDeps): (job: Job<RunJobData>, token?: string) => Promise<string> {
  const { config, log, runs, artifacts, cancel, docker, deployment, warm, metrics, active } = deps;
  return async (job, token) => {
    const { runId } = job.data;
    const runLog = log.child({ runId });
    const run = await runs.get(runId);
    if (!run) return 'unknown run';
    if (isFinalStatus(run.status)) return `already ${run.status}`;
    if (await cancel.isRequested(runId)) {
      await runs.finish(runId, 'cancelled', null, 'Run cancelled before it started.');
      return 'cancelled';
    }
    const checkpoint = await runs.loadCheckpoint(runId);
    const attempt = run.attempt + 1;
    const resumedAt = countNodes(checkpoint);
    const started = await runs.markStarted(runId, attempt, {
      type: 'run.started',
      message:
        attempt === 1
          ? `Run started on worker ${config.workerId}.`
          : `Run resumed (attempt ${attempt}) on worker ${config.workerId} after ${resumedAt ?? 0} finished experiment(s).`,
      data: { attempt, worker: config.workerId, resumedAt },
    });
    if (!started) return 'not startable';
    const firstStart = Date.parse((await runs.get(runId))?.startedAt ?? '') || Date.now();
    const deadline = firstStart + run.timeLimitMinutes * 60_000;

    const controller = new AbortController();
    active.set(runId, controller);
    const attemptStarted = Date.now();
    const hardStop = setTimeout(
      () => controller.abort('time_limit' satisfies StopReason),
      Math.max(0, deadline + HARD_DEADLINE_GRACE_MS - Date.now()),
    );
    if (attempt > 1) {
      const removed = await removeRunContainers(docker, deployment, runId);
      if (removed > 0) runLog.info({ removed }, 'removed the sandboxes of the previous attempt');
    }
    const secrets = workerSecrets(config);
    const transcript = new Transcript(artifacts, runId, secrets, (err, lines) =>
      runLog.warn({ err: err.message, lines }, 'transcript lines not written yet; they go with the next chunk'),
    );
    const scratch = await mkdtemp(join(tmpdir(), `autolab-inputs-${runId}-`));
    const inputs = await resolveInputs(deps.uploads, deps.templates, run, scratch).catch(
      (err: Error): ResolvedInputs => {
        if (!(err instanceof ArtifactStoreUnavailableError)) throw err;
        return { ...NO_INPUTS, missing: err.message, missingCode: 'artifact_store_unavailable' };
      },
    );
    // The API accepts only images it knows; a worker configured with fewer (AUTOLAB_SANDBOX_IMAGES differs) must not
    // quietly run the experiments elsewhere.
    const image = config.sandboxImages.find((known) => known.name === run.sandbox.image);
    const sandboxes = new DockerSandboxFactory(
      docker,
      // The grading sandbox stays in the built-in image: the service's metrics are written for it.
      { ...config.images, experiments: image?.tag ?? config.images.python },
      { deployment, runId, attempt, workerId: config.workerId },
      { cpus: run.sandbox.cpus, memoryMb: run.sandbox.memoryMb },
      config.sandboxRuntime,
      inputs.dirs,
      inputs.grading,
      warm,
    );
    runLog.info({ attempt, models: run.models, image: run.sandbox.image }, 'run started');
    let outcome: ResearchOutcome;
    try {
      if (!image) {
        throw new RunSetupError(
          'sandbox_image_unknown',
          `the run names the sandbox image "${run.sandbox.image}", which worker ${config.workerId} does not have ` +
            `(its images: ${config.sandboxImages.map((known) => known.name).join(', ')}; set AUTOLAB_SANDBOX_IMAGES alike on the API and every worker)`,
        );
      }
      if (inputs.missing) throw new RunSetupError(inputs.missingCode ?? 'input_missing', inputs.missing);
      const llm = runModelRouter(config.llm, runId, run.models, deps.modelModes, transcript);
      const rerunFrom = job.data.rerunFrom;
      outcome = await runResearch(
        {
          runId,
          goal: run.goal,
          models: run.models,
          maxIterations: run.maxIterations,
          budgetUsd: run.budgetUsd,
          deadline,
          timeLimitMinutes: run.timeLimitMinutes,
          sandbox: run.sandbox,
          ...(image.default ? {} : { sandboxImage: { name: image.name, packages: image.packages } }),
          outputLimits: config.outputLimits,
          policy: run.policy,
          inputs: inputs.listings,
          evaluation: inputs.evaluation,
          template: inputs.template,
          evolve: evolveInput(run, inputs.listings),
          checkpoint,
          rerun: rerunFrom ? { fromStage: rerunFrom, jobId: job.id ?? `${runId}.rerun` } : null,
          lessons: {
            use: run.policy.lessons.use && config.lessonsPromptTokens > 0,
            learn: run.policy.lessons.learn,
            promptTokens: config.lessonsPromptTokens,
          },
        },
        {
          llm: metrics.meteredLlm(llm),
          sandboxes,
          clock: { now: Date.now },
          literature: deps.literature,
          ...runPorts(
            {
              runs,
              artifacts,
              hints: deps.hints,
              lessons: deps.lessons,
              searchStats: deps.searchStats,
              embeddings: deps.embeddings,
              metrics,
            },
            { id: runId, tenant: run.tenant },
            attempt,
            secrets,
          ),
        },
        controller.signal,
      );
    } catch (err) {
      outcome = failedOutcome(err);
    } finally {
      clearTimeout(hardStop);
      active.delete(runId);
      await sandboxes.closeAll();
      // Whatever this attempt opened is gone, also containers whose handle was lost; if Docker is down right now, the
      // reap when it answers again removes them.
      await removeRunContainers(docker, deployment, runId).catch(() => undefined);
      warm.release(runId);
      await rm(scratch, { recursive: true, force: true });
      // Last: with the store down this waits out its retry window, and the sandboxes should not wait with it.
      const lost = await transcript.close();
      if (lost > 0) runLog.error({ lines: lost }, 'the artifact store is unreachable: transcript lines lost');
    }

    const reason = controller.signal.reason as StopReason | undefined;
    metrics.runEnded(
      outcomeStatus(outcome, reason),
      outcome.status === 'failed' ? outcome.error.code : null,
      (Date.now() - attemptStarted) / 1000,
    );
    return recordOutcome(
      runs,
      {
        job,
        token,
        run: { id: runId, timeLimitMinutes: run.timeLimitMinutes },
        attempt,
        // A failure's message may quote a service's answer, which may echo a credential.
        outcome: outcome.status === 'failed' ? { ...outcome, error: redactValue(outcome.error, secrets) } : outcome,
        reason,
      },
      runLog,
    );
  };
}

function countNodes(checkpoint: unknown): number | null {
  const nodes = (joinCheckpoint(checkpoint) as { nodes?: unknown[] } | null)?.nodes;
  return Array.isArray(nodes) ? nodes.length : null;
}
