import { runFailure } from '@autolab/contracts';
import { createLiteratureSearch } from '@autolab/literature';
import { Embedder } from '@autolab/llm';
import { DEFAULT_LIMITS, DockerClient, dockerConnection, WarmPool } from '@autolab/sandbox';
import {
  CancelSignal,
  deploymentId,
  describeArtifactStore,
  HintStore,
  type LessonEmbeddings,
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
import { DelayedError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerConfig } from './env.js';
import { WorkerMetrics } from './metrics.js';
import { runProcessor } from './run-attempt.js';
import type { StopReason } from './run-outcome.js';
import { checkSandboxImages, checkSandboxRuntime } from './startup-checks.js';
import { WorkerUpkeep } from './upkeep.js';

/**
 * The worker process's wiring. What it does lives in one module per concern: run-attempt.ts (one attempt of a run:
 * the BullMQ processor), run-inputs.ts (the run's uploads and template), run-models.ts (the model router),
 * run-ports.ts (sink, hints, lessons), run-outcome.ts (how an attempt's end is written to the run record),
 * upkeep.ts (heartbeat, cancel check, Docker watch, reaper, archive sweep) and startup-checks.ts.
 */

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
  const artifacts = openArtifactStore(config.artifacts, storeOptions);
  const uploads = new UploadStore(
    redis,
    keys,
    config.uploadsDir,
    undefined,
    openUploadFileStore(config.artifacts, storeOptions),
  );
  const registry = new WorkerRegistry(redis, keys);
  const cancel = new CancelSignal(redis, keys);
  // Scopes this deployment's sandbox containers (labels, reaper); the Redis prefix alone is not unique across servers.
  const deployment = await deploymentId(redis, keys);
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

  await cancel.listen(subscriber, (runId) => {
    const controller = active.get(runId);
    if (controller && !controller.signal.aborted) {
      log.info({ runId }, 'cancel requested');
      controller.abort('cancel' satisfies StopReason);
    }
  });

  const processRun = runProcessor({
    config,
    log,
    runs,
    artifacts,
    uploads,
    templates: await TemplateCatalog.load(),
    cancel,
    hints: new HintStore(redis, keys),
    lessons: new LessonStore(redis, keys),
    searchStats: new SearchStatsStore(redis, keys),
    embeddings: lessonEmbeddings(config),
    modelModes: new ModelModeStore(redis, keys, config.llm.modeTtlMs),
    docker,
    deployment,
    warm,
    metrics,
    literature: config.literature
      ? createLiteratureSearch({ ...config.literature, client: { logger: log } })
      : undefined,
    active,
  });
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
  // BullMQ's connections (ours and the blocking one it opens) check the Redis version once they connect. A Worker
  // closed during that check drops its error listeners first, and the check's "Connection is closed." then surfaces
  // as an unhandled rejection: a worker is running (and can be closed) only once they are ready.
  await worker.waitUntilReady();

  // Runs are taken only while Docker answers (the upkeep watches it and reaps leftovers before runs are taken again).
  const upkeep = new WorkerUpkeep({
    workerId: config.workerId,
    concurrency: config.concurrency,
    deployment,
    eventsRetentionMs: config.eventsRetentionMs,
    docker,
    runs,
    registry,
    cancel,
    archiver: new RunArchiver(runs, runArchive, config.eventsRetentionMs),
    warm,
    active,
    onDockerDown: () => void worker.pause(true),
    onDockerUp: () => {
      warm.start();
      if (worker.isPaused()) worker.resume();
      else if (!worker.isRunning()) void worker.run().catch((err) => log.error({ err: err.message }, 'worker error'));
    },
    log,
  });
  await upkeep.start();
  log.info(
    { workerId: config.workerId, deployment, concurrency: config.concurrency, dockerOk: upkeep.dockerOk },
    upkeep.dockerOk ? 'worker ready' : 'worker started; waiting for Docker before taking runs',
  );

  return {
    workerId: config.workerId,
    metricsUrl: metricsServer?.url ?? null,
    async close() {
      upkeep.beginClose();
      for (const controller of active.values()) controller.abort('shutdown' satisfies StopReason);
      await worker.close();
      upkeep.stop();
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

/** The embeddings model of hybrid lesson retrieval, at its endpoint (AUTOLAB_MODEL_ENDPOINTS) or the default one. */
function lessonEmbeddings(config: WorkerConfig): LessonEmbeddings | null {
  const { model, minSimilarity } = config.embeddings;
  if (!model) return null;
  const endpoint = config.llm.endpoints[model];
  const embedder = new Embedder({
    model,
    baseUrl: endpoint?.baseUrl ?? config.llm.baseUrl,
    apiKey: endpoint?.apiKey ?? config.llm.apiKey,
    timeoutMs: config.llm.timeoutMs,
    maxAttempts: config.llm.maxAttempts,
  });
  return { model, minSimilarity, embed: (texts) => embedder.embed(texts) };
}
