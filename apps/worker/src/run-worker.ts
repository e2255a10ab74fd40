import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  graderEntryPoint,
  INPUT_KINDS,
  isFinalStatus,
  type RunFailureCode,
  type RunInputs,
  type RunStatus,
  runFailure,
  type Template,
} from '@autolab/contracts';
import {
  describeGain,
  type HANDED_OVER,
  type HeldOutEvaluation,
  heldOutEvaluation,
  joinCheckpoint,
  type ResearchOutcome,
  type RunInputListings,
  runResearch,
} from '@autolab/engine';
import { createLiteratureSearch } from '@autolab/literature';
import { ChatLlm, ModelRouter } from '@autolab/llm';
import {
  DEFAULT_LIMITS,
  DockerClient,
  DockerSandboxFactory,
  dockerConnection,
  reapSandboxes,
  registeredRuntimes,
  removeRunContainers,
  type SandboxInput,
  type SandboxRuntime,
  WarmPool,
} from '@autolab/sandbox';
import {
  ArtifactStoreUnavailableError,
  CancelSignal,
  deploymentId,
  describeArtifactStore,
  HintStore,
  LessonStore,
  logRedisConnection,
  ModelModeStore,
  openArtifactStore,
  openRunArchiveStore,
  openUploadFileStore,
  RedisKeys,
  RUN_QUEUE_NAME,
  RunArchiver,
  type RunJobData,
  RunStore,
  SearchStatsStore,
  UploadStore,
  WorkerRegistry,
} from '@autolab/store';
import { TemplateCatalog } from '@autolab/templates';
import { DelayedError, type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerConfig } from './env.js';
import { WorkerMetrics } from './metrics.js';
import { StoreRunSink } from './run-sink.js';
import { Transcript } from './transcript.js';

const HEARTBEAT_MS = 5000;
/** Leftover containers (of workers that died) are looked for this often, not only at start. */
const REAP_INTERVAL_MS = 60_000;
const HEARTBEAT_TTL_MS = 15_000;
/** A ping that takes longer counts as Docker being unreachable. */
const DOCKER_PING_TIMEOUT_MS = 3000;
/** After the run's time limit, how long the writeup may still take before the run is stopped hard. */
const HARD_DEADLINE_GRACE_MS = 5 * 60_000;

/** Why a run's signal fires; `shutdown` (the engine's HANDED_OVER) hands the run to another worker. */
type StopReason = 'cancel' | typeof HANDED_OVER | 'time_limit';

/** What the worker finds wrong with a run before the engine starts (an input gone, an image it lacks). */
class RunSetupError extends Error {
  constructor(
    readonly code: RunFailureCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The run's uploads, checked against its tenant: the listing the engine shows the model and the directories the
 * sandboxes copy in. An upload that is gone (deleted before the run started) fails the run with a clear reason.
 */
async function resolveInputs(
  uploads: UploadStore,
  templates: TemplateCatalog,
  run: { tenant: string; inputs: RunInputs },
  /** Where uploads kept in S3 are downloaded for the sandboxes to copy in; removed after the attempt. */
  scratch: string,
): Promise<ResolvedInputs> {
  const missing = (message: string): ResolvedInputs => ({ ...NO_INPUTS, missing: message });
  const gone = (what: string, id: string) => missing(`the ${what} ${id} no longer exists (was it deleted?)`);
  const listings: RunInputListings = {};
  const dirs: SandboxInput[] = [];
  for (const kind of INPUT_KINDS) {
    const id = run.inputs[kind];
    if (!id) continue;
    const upload = await uploads.get(id, run.tenant);
    if (!upload) return gone(`${kind} input`, id);
    listings[kind] = { uploadId: id, files: upload.files.map(({ path, size }) => ({ path, size })) };
    dirs.push({ name: kind, dir: await uploads.localFiles(upload, scratch) });
  }
  // A template's baseline is the run's starting code, delivered like an uploaded `code` input.
  const name = run.inputs.template;
  const source = name ? templates.get(name) : null;
  if (name && !source) return missing(`the template ${name} is not one this worker has (is it older than the API?)`);
  if (source) {
    listings.code = { uploadId: null, template: source.template.name, files: source.codeFiles };
    dirs.push({ name: 'code', dir: source.dir, files: source.codeFiles.map((f) => f.path) });
  }
  // The held-out test goes into the grading sandbox's volume only; the engine learns its metric, not its files.
  const grading: SandboxInput[] = [];
  let evaluation: HeldOutEvaluation | null = null;
  const spec = run.inputs.evaluation;
  if (spec) {
    const hidden = await uploads.get(spec.hidden, run.tenant);
    if (!hidden) return gone('held-out input', spec.hidden);
    grading.push({ name: 'hidden', dir: await uploads.localFiles(hidden, scratch) });
    let entry: string | null = null;
    if (spec.grader) {
      const grader = await uploads.get(spec.grader, run.tenant);
      if (!grader) return gone('grader', spec.grader);
      entry = graderEntryPoint(grader.files.map((f) => f.path));
      if (!entry) return missing(`the grader ${spec.grader} has no grade.py`);
      grading.push({ name: 'grader', dir: await uploads.localFiles(grader, scratch) });
    }
    evaluation = heldOutEvaluation(spec, entry);
  }
  return { missing: null, listings, dirs, grading, evaluation, template: source?.template ?? null };
}

const NO_INPUTS: ResolvedInputs = {
  missing: null,
  listings: {},
  dirs: [],
  grading: [],
  evaluation: null,
  template: null,
};

interface ResolvedInputs {
  /** Why the run cannot start (an upload it names is gone), or null. */
  missing: string | null;
  /** The run failure for `missing`; default `input_missing`. */
  missingCode?: RunFailureCode;
  listings: RunInputListings;
  dirs: SandboxInput[];
  grading: SandboxInput[];
  evaluation: HeldOutEvaluation | null;
  /** The built-in template the run starts from (its baseline is in `listings.code`). */
  template: Template | null;
}

export interface RunningWorker {
  workerId: string;
  /** Where its Prometheus metrics are served (AUTOLAB_WORKER_METRICS_PORT), or null when they are not. */
  metricsUrl: string | null;
  /** Stops taking runs, interrupts the active ones (they are re-queued from their checkpoints) and disconnects. */
  close(): Promise<void>;
}

/** Takes runs from the queue and drives the research engine for each, with real Redis, Docker and model. */
export async function startWorker(config: WorkerConfig, log: Logger): Promise<RunningWorker> {
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const subscriber = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  // Commands wait for Redis to come back (maxRetriesPerRequest: null); say once that it is gone, not per retry.
  logRedisConnection(redis, log, 'the worker waits for it');
  subscriber.on('error', () => undefined);
  const keys = new RedisKeys(config.redisPrefix);
  // A run waits up to AUTOLAB_S3_RETRY_SECONDS for an unreachable store before it fails with artifact_store_unavailable.
  const storeOptions = {
    waitForOutages: true,
    onWait: (what: string, err: Error) =>
      log.warn(
        { err: err.message, waitSeconds: config.artifacts.kind === 's3' ? config.artifacts.retryMs / 1000 : 0 },
        `the artifact store did not answer (${what}); waiting for it`,
      ),
  };
  // Finished runs' events and checkpoints move there after AUTOLAB_EVENTS_RETENTION_SECONDS (a rerun resumes from it).
  const runArchive = openRunArchiveStore(config.artifacts, storeOptions);
  const runs = new RunStore(redis, keys, runArchive);
  const archiver = new RunArchiver(runs, runArchive, config.eventsRetentionMs);
  const artifacts = openArtifactStore(config.artifacts, storeOptions);
  const uploads = new UploadStore(
    redis,
    keys,
    config.uploadsDir,
    undefined,
    openUploadFileStore(config.artifacts, storeOptions),
  );
  const templates = await TemplateCatalog.load();
  const registry = new WorkerRegistry(redis, keys);
  const cancel = new CancelSignal(redis, keys);
  const hintStore = new HintStore(redis, keys);
  const lessonStore = new LessonStore(redis, keys);
  const searchStats = new SearchStatsStore(redis, keys);
  const modelModes = new ModelModeStore(redis, keys, config.llm.modeTtlMs);
  // Scopes this deployment's sandbox containers (labels, reaper); the Redis prefix alone is not unique across servers.
  const deployment = await deploymentId(redis, keys);
  // One client for all runs, so a rate-limited or unreachable service is remembered across them.
  const literature = config.literature
    ? createLiteratureSearch({ ...config.literature, client: { logger: log } })
    : undefined;
  const retrySeconds = Math.round(config.dockerRetryMs / 1000);
  const docker = new DockerClient({
    // This worker's DOCKER_HOST, even when it is not its process's (an in-process worker of a test).
    connection: dockerConnection(config.dockerHostSetting),
    retryMs: config.dockerRetryMs,
    onOutage: (err) =>
      log.error(
        { docker: config.dockerHost, err: err.message.trim() },
        `cannot reach Docker: no new run is taken until it answers; a running run waits up to ${retrySeconds} s for it, then fails with docker_unavailable`,
      ),
    onRecovered: (downMs) =>
      log.info({ docker: config.dockerHost, downSeconds: Math.round(downMs / 1000) }, 'Docker answers again'),
  });
  const active = new Map<string, AbortController>();
  // Kept warm: the built-in image with a run's default limits (DEFAULT_LIMITS are the run request's defaults too),
  // until runs ask for another image or other limits.
  const warm = new WarmPool(docker, {
    ...config.warmPool,
    deployment,
    workerId: config.workerId,
    runtime: config.sandboxRuntime,
    image: config.images.python,
    limits: DEFAULT_LIMITS,
    onTake: (hit) => metrics.poolTake(hit),
    onStartFailed: (err, retryInMs) =>
      log.warn(
        { err: err.message, retryInSeconds: retryInMs / 1000 },
        'cannot start a warm sandbox; trying again later',
      ),
  });
  const metrics = new WorkerMetrics(
    () => active.size,
    () => warm.idleCount,
  );
  const metricsServer =
    config.metrics.port === null ? null : await metrics.serve(config.metrics.host, config.metrics.port);
  await checkSandboxRuntime(docker, config.sandboxRuntime, log);
  await checkSandboxImages(docker, config.sandboxImages, log);
  await artifacts.check().then(
    () => log.info({ artifacts: describeArtifactStore(config.artifacts) }, 'artifact store answers'),
    (err: Error) =>
      log.error(
        { artifacts: describeArtifactStore(config.artifacts), err: err.message },
        'cannot reach the artifact store: runs wait for it, then fail with artifact_store_unavailable',
      ),
  );

  const reap = async () => {
    const removed = await reapSandboxes(docker, deployment, {
      keep: async (runId, workerId) => {
        if (workerId === config.workerId) return active.has(runId);
        const run = await runs.get(runId);
        return run !== null && !isFinalStatus(run.status) && (await registry.isAlive(workerId));
      },
      // Another worker's pool is its own business while it lives; once it is gone (killed), nobody will use them.
      keepPooled: async (containerId, workerId) =>
        workerId === config.workerId
          ? warm.holds(containerId, (runId) => active.has(runId))
          : registry.isAlive(workerId),
    });
    if (removed.length > 0) log.info({ removed: removed.length }, 'reaped leftover sandbox containers');
  };
  const reapNow = () => reap().catch((err) => log.warn({ err: (err as Error).message }, 'reaper failed'));
  const reaper = setInterval(() => {
    if (dockerOk) void reapNow();
  }, REAP_INTERVAL_MS);

  await cancel.listen(subscriber, (runId) => {
    const controller = active.get(runId);
    if (controller && !controller.signal.aborted) {
      log.info({ runId }, 'cancel requested');
      controller.abort('cancel' satisfies StopReason);
    }
  });

  const beat = async () => {
    // A cancel whose pub/sub message was missed (reconnect) is still noticed within one heartbeat.
    for (const [runId, controller] of active) {
      if (!controller.signal.aborted && (await cancel.isRequested(runId).catch(() => false))) {
        controller.abort('cancel' satisfies StopReason);
      }
    }
    await checkDocker();
    await registry
      .beat(
        {
          workerId: config.workerId,
          host: hostname(),
          pid: process.pid,
          startedAt,
          concurrency: config.concurrency,
          activeRuns: [...active.keys()],
          dockerOk,
        },
        HEARTBEAT_TTL_MS,
      )
      .catch((err) => log.warn({ err: (err as Error).message }, 'heartbeat failed'));
  };
  const startedAt = new Date().toISOString();

  const processRun = async (job: Job<RunJobData>, token?: string): Promise<string> => {
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
    const transcript = new Transcript(
      artifacts,
      runId,
      [
        ...modelSecrets(config.llm),
        config.literature?.semanticScholarApiKey ?? '',
        config.artifacts.kind === 's3' ? (config.artifacts.credentials?.secretAccessKey ?? '') : '',
      ],
      (err, lines) =>
        runLog.warn({ err: err.message, lines }, 'transcript lines not written yet; they go with the next chunk'),
    );
    const scratch = await mkdtemp(join(tmpdir(), `autolab-inputs-${runId}-`));
    const inputs = await resolveInputs(uploads, templates, run, scratch).catch((err: Error): ResolvedInputs => {
      if (!(err instanceof ArtifactStoreUnavailableError)) throw err;
      return { ...NO_INPUTS, missing: err.message, missingCode: 'artifact_store_unavailable' };
    });
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
      const llm = new ModelRouter(run.models, (model) => {
        const endpoint = config.llm.endpoints[model];
        return new ChatLlm({
          baseUrl: endpoint?.baseUrl ?? config.llm.baseUrl,
          // Endpoints without keys (local servers) still need a non-empty string for the client.
          apiKey: endpoint?.apiKey ?? (config.llm.apiKey || 'not-set'),
          model,
          runId,
          timeoutMs: config.llm.timeoutMs,
          maxAttempts: config.llm.maxAttempts,
          prices: config.llm.prices,
          mode: endpoint?.mode ?? config.llm.mode,
          modeCache: modelModes,
          ...(endpoint?.headers ? { headers: endpoint.headers } : {}),
          ...(endpoint?.query ? { query: endpoint.query } : {}),
          onCall: (entry) => transcript.append(entry),
        });
      });
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
          sink: metrics.meteredSink(new StoreRunSink(runId, attempt, runs, artifacts)),
          clock: { now: Date.now },
          literature,
          hints: {
            list: () => hintStore.list(runId),
            markApplied: (hintId, step) => hintStore.markApplied(runId, hintId, step),
          },
          // The run's tenant's lessons (and those shared with it); what it learns goes to its tenant only.
          lessons: {
            find: async (query) =>
              (
                await lessonStore.search(run.tenant, { q: query.text, kinds: query.kinds, limit: query.limit })
              ).hits.map((hit) => hit.lesson),
            learn: (lessons) => lessonStore.learn(run.tenant, lessons),
            recordSearch: async (counts) => {
              await searchStats.record(run.tenant, runId, counts);
            },
          },
        },
        controller.signal,
      );
    } catch (err) {
      const code = err instanceof RunSetupError ? err.code : 'internal_error';
      outcome = { status: 'failed', error: runFailure(code, (err as Error).message) };
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

    metrics.runEnded(
      outcomeStatus(outcome, controller.signal.reason as StopReason),
      outcome.status === 'failed' ? outcome.error.code : null,
      (Date.now() - attemptStarted) / 1000,
    );
    // A newer attempt took the run over (this worker's lock had expired): leave the run to it.
    if ((await runs.get(runId))?.attempt !== attempt) {
      runLog.warn({ attempt }, 'run superseded by a newer attempt; not finishing it');
      return 'superseded';
    }
    switch (outcome.status) {
      case 'succeeded': {
        const gain = outcome.startingCode;
        await runs.finish(
          runId,
          'succeeded',
          null,
          `Run succeeded: the paper and the code are ready to download.${gain ? ` Over the starting code: ${describeGain(gain)}.` : ''}`,
          { startingCode: gain },
        );
        break;
      }
      case 'failed':
        runLog.warn({ error: outcome.error }, 'run failed');
        await runs.finish(runId, 'failed', outcome.error, `Run failed: ${outcome.error.message}`);
        break;
      case 'interrupted': {
        const reason = controller.signal.reason as StopReason;
        if (reason === 'shutdown') {
          // Hand the run back to the queue; the next worker resumes it from the checkpoint.
          await runs.transition(
            runId,
            ['running'],
            'queued',
            {},
            {
              type: 'run.requeued',
              message: 'The worker is shutting down; the run goes back to the queue and resumes from its checkpoint.',
              data: { reason: 'worker shutdown', rerunFrom: null },
            },
          );
          await job.moveToDelayed(Date.now() + 1000, token);
          throw new DelayedError();
        }
        if (reason === 'time_limit') {
          await runs.finish(
            runId,
            'failed',
            runFailure('time_limit', `the run exceeded its time limit of ${run.timeLimitMinutes} min`),
            'Run stopped: time limit exceeded.',
          );
        } else {
          await runs.finish(runId, 'cancelled', null, 'Run cancelled.');
        }
        break;
      }
    }
    runLog.info({ status: outcome.status }, 'run ended');
    return outcome.status;
  };

  // BullMQ leaves a connection it was given open on close: the worker quits it itself.
  const queueConnection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const worker = new Worker<RunJobData>(RUN_QUEUE_NAME, processRun, {
    connection: queueConnection,
    prefix: keys.queuePrefix(),
    concurrency: config.concurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: config.jobLockMs,
    maxStalledCount: 10,
    autorun: false,
  });
  worker.on('failed', (job, err) => {
    if (err instanceof DelayedError || !job) return;
    // The processor turns engine failures into failed runs itself; this is for what it could not handle
    // (Redis trouble while finishing, a job that stalled too often). The run must not stay "running" forever.
    log.error({ runId: job.data.runId, err: err.message }, 'job failed');
    void runs
      .finish(job.data.runId, 'failed', runFailure('worker_error', err.message), `Run failed: ${err.message}`)
      .catch(() => undefined);
  });
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));

  // Runs are taken only while Docker answers. A worker that starts without Docker waits for it (its heartbeat says
  // dockerOk: false, so /healthz reports it) instead of crashing, and queued runs stay queued; when Docker comes
  // back, leftovers are reaped first (a run that failed during the outage could not remove its containers).
  let dockerOk = false;
  async function checkDocker(): Promise<void> {
    const ok = await docker.reachable(DOCKER_PING_TIMEOUT_MS);
    if (ok === dockerOk) return;
    dockerOk = ok;
    if (!ok) {
      void worker.pause(true);
      return;
    }
    await reapNow();
    if (!dockerOk || closing) return;
    warm.start();
    if (worker.isPaused()) worker.resume();
    else if (!worker.isRunning()) void worker.run().catch((err) => log.error({ err: err.message }, 'worker error'));
  }
  let closing = false;
  await beat();
  const heartbeat = setInterval(() => void beat(), HEARTBEAT_MS);
  // Every worker sweeps; two sweeping the same run at once is harmless (see RunArchiver).
  let archiving = false;
  const archiveDue = async () => {
    if (archiving || closing) return;
    archiving = true;
    try {
      const archived = await archiver.archiveDue();
      if (archived.length > 0) log.debug({ runs: archived }, 'archived finished runs');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not archive finished runs; trying again later');
    } finally {
      archiving = false;
    }
  };
  const archiveTimer = setInterval(() => void archiveDue(), archiveSweepMs(config.eventsRetentionMs));
  log.info(
    { workerId: config.workerId, deployment, concurrency: config.concurrency, dockerOk },
    dockerOk ? 'worker ready' : 'worker started; waiting for Docker before taking runs',
  );

  return {
    workerId: config.workerId,
    metricsUrl: metricsServer?.url ?? null,
    async close() {
      closing = true;
      for (const controller of active.values()) controller.abort('shutdown' satisfies StopReason);
      await worker.close();
      clearInterval(heartbeat);
      clearInterval(reaper);
      clearInterval(archiveTimer);
      // Idle warm sandboxes go with the worker; the runs' own were removed as each run ended.
      await warm
        .close()
        .catch((err) => log.warn({ err: (err as Error).message }, 'removing the warm sandboxes failed'));
      await registry.remove(config.workerId).catch(() => undefined);
      subscriber.disconnect();
      await queueConnection.quit().catch(() => undefined);
      await redis.quit().catch(() => undefined);
      await metricsServer?.close();
    },
  };
}

/** How often finished runs are looked for: a quarter of the retention, between 1 s and a minute. */
function archiveSweepMs(retentionMs: number): number {
  return Math.min(60_000, Math.max(1000, retentionMs / 4));
}

/** The status a run attempt ends with, for the metrics: a time limit fails it, a shutdown or cancel interrupts it. */
function outcomeStatus(outcome: ResearchOutcome, reason: StopReason): RunStatus | 'interrupted' {
  if (outcome.status !== 'interrupted') return outcome.status;
  return reason === 'time_limit' ? 'failed' : 'interrupted';
}

/**
 * A worker configured for gVisor refuses to start on an engine without it, rather than fail every run. An engine
 * that cannot be reached at all is not decided here: the runs' own Docker handling deals with that.
 */
async function checkSandboxRuntime(docker: DockerClient, runtime: SandboxRuntime, log: Logger): Promise<void> {
  // Pings are not retried: a worker started without Docker must not wait out the retry window here.
  if (
    !(await docker.ping().then(
      () => true,
      () => false,
    ))
  )
    return;
  const available = await registeredRuntimes(docker).catch(() => null);
  if (available === null) return;
  if (!available.includes(runtime)) {
    throw new Error(
      `AUTOLAB_SANDBOX_RUNTIME=${runtime}, but the Docker engine has no runtime "${runtime}" registered ` +
        '(scripts/ensure-services.sh registers gVisor when it starts dockerd; docs/security.md says how to by hand)',
    );
  }
  log.info({ runtime }, 'sandbox runtime');
}

/**
 * Says at start-up which configured sandbox images the engine does not have (there is no registry to pull from): runs
 * naming one would fail with sandbox_error. Not fatal: the image may be loaded later, and other runs are unaffected.
 */
async function checkSandboxImages(
  docker: DockerClient,
  images: WorkerConfig['sandboxImages'],
  log: Logger,
): Promise<void> {
  // Without Docker right now there is nothing to check (and no call here may wait out the retry window).
  if (!(await docker.reachable(DOCKER_PING_TIMEOUT_MS))) return;
  for (const image of images) {
    const present = await docker
      .getImage(image.tag)
      .inspect()
      .then(
        () => true,
        (err: { statusCode?: number }) => err.statusCode !== 404,
      );
    if (!present) log.warn({ image: image.name, tag: image.tag }, 'sandbox image missing on the Docker engine');
  }
}

/** Every credential of the model endpoints: none of them may reach a transcript line. */
function modelSecrets(llm: WorkerConfig['llm']): string[] {
  const endpoints = Object.values(llm.endpoints);
  return [
    llm.apiKey,
    ...endpoints.map((endpoint) => endpoint.apiKey ?? ''),
    ...endpoints.flatMap((endpoint) => Object.values(endpoint.headers ?? {})),
  ];
}

function countNodes(checkpoint: unknown): number | null {
  const nodes = (joinCheckpoint(checkpoint) as { nodes?: unknown[] } | null)?.nodes;
  return Array.isArray(nodes) ? nodes.length : null;
}
