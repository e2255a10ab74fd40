import {
  ApiKeyStore,
  CancelSignal,
  createRunQueue,
  EventHub,
  failFastRedisOptions,
  HintStore,
  LessonStore,
  logRedisConnection,
  openArtifactStore,
  openRunArchiveStore,
  openUploadFileStore,
  RateLimiter,
  RedisKeys,
  RunStore,
  SearchStatsStore,
  UploadStore,
  WorkerRegistry,
} from '@autolab/store';
import { TemplateCatalog } from '@autolab/templates';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { AdminSessions } from './auth.js';
import { type ApiConfig, assertSafeToListen } from './env.js';

export interface RunningApi {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

const UPLOAD_SWEEP_INTERVAL_MS = 10 * 60_000;

/** Connects to Redis, builds the app and listens. */
export async function startApi(config: ApiConfig, logger: Logger | false = false): Promise<RunningApi> {
  assertSafeToListen(config);
  // Requests fail fast while Redis is unreachable (503 `unavailable`); only the event hub's blocking reads wait for it.
  const redis = new Redis(config.redisUrl, failFastRedisOptions(config.redisCommandTimeoutMs));
  const blocking = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  const queueConnection = new Redis(config.redisUrl, failFastRedisOptions(config.redisCommandTimeoutMs));
  logRedisConnection(redis, logger || null, 'requests are answered 503 until it is back');
  for (const client of [blocking, queueConnection]) client.on('error', () => undefined);
  const keys = new RedisKeys(config.redisPrefix);
  // Finished runs' events are read from the run archive once the workers have moved them there.
  const runs = new RunStore(redis, keys, openRunArchiveStore(config.artifacts, { waitForOutages: false }));
  const queue = createRunQueue(queueConnection, keys);
  queue.on('error', () => undefined);
  const hub = new EventHub(blocking, redis, keys, runs);
  // Listening before Redis is reachable is fine (requests get 503 until it is), but at start-up it usually is a moment
  // away: give it that moment, so the first requests are not refused for nothing.
  await untilReady(redis, 5_000);
  // With S3, AUTOLAB_DATA_DIR/uploads only holds drafts while they are received; committed files go to the bucket.
  const uploads = new UploadStore(
    redis,
    keys,
    config.uploadsDir,
    config.uploadLimits,
    openUploadFileStore(config.artifacts, { waitForOutages: false }),
  );
  // What a killed API left half-written goes now and then: at start, and every ten minutes.
  const sweep = () =>
    uploads.sweepAbandoned(config.timeouts.requestMs).then(
      (removed) => {
        if (removed.length > 0 && logger) logger.info({ removed }, 'removed abandoned upload drafts');
      },
      (err: Error) => {
        if (logger) logger.warn({ err: err.message }, 'could not sweep abandoned upload drafts');
      },
    );
  await sweep();
  const sweeper = setInterval(sweep, UPLOAD_SWEEP_INTERVAL_MS);
  sweeper.unref();
  const app = await buildApp({
    redis,
    runs,
    queue,
    // A request answers 503 at once when the store is unreachable rather than holding the client while it retries.
    artifacts: openArtifactStore(config.artifacts, { waitForOutages: false }),
    uploads,
    templates: await TemplateCatalog.load(),
    hub,
    cancel: new CancelSignal(redis, keys),
    workers: new WorkerRegistry(redis, keys),
    hints: new HintStore(redis, keys),
    lessons: new LessonStore(redis, keys),
    searchStats: new SearchStatsStore(redis, keys),
    keys: new ApiKeyStore(redis, keys),
    sessions: new AdminSessions(redis, keys),
    authEnabled: config.auth,
    adminKey: config.adminKey,
    rateLimit:
      config.auth && config.rateLimitPerMinute > 0
        ? { limiter: new RateLimiter(redis, keys), perMinute: config.rateLimitPerMinute }
        : null,
    tenantMaxActiveRuns: config.tenantMaxActiveRuns,
    models: config.models,
    prices: config.prices,
    sandboxImages: config.sandboxImages,
    heartbeatMs: config.heartbeatMs,
    timeouts: config.timeouts,
    ...(logger ? { logger } : {}),
  });
  if (logger && !config.auth) logger.warn('AUTOLAB_AUTH=off: no API keys; every caller is an admin (loopback only)');
  if (logger && config.auth && !config.adminKey)
    logger.warn('AUTOLAB_ADMIN_KEY is not set: only keys already stored in Redis can use the API');
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    app,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      clearInterval(sweeper);
      await hub.close();
      // Open SSE responses are hijacked: closing the server must not wait for them.
      app.server.closeAllConnections();
      await app.close();
      await queue.close();
      // BullMQ leaves the connection it was given open.
      await queueConnection.quit().catch(() => undefined);
      blocking.disconnect();
      await redis.quit().catch(() => undefined);
    },
  };
}

/** Resolves when `client` is connected, or after `ms` (whichever comes first). */
function untilReady(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.once('ready', done);
  });
}
