import { resolve } from 'node:path';
import { ModelName, PricesSetting, SandboxImagesSetting, sandboxImageCatalog } from '@autolab/contracts';
import { ArtifactStoreEnv, artifactStoreConfig } from '@autolab/store';
import { z } from 'zod';
import { DEFAULT_TIMEOUTS } from './http-timeouts.js';

/** The API's configuration, parsed once at start-up; nothing else reads process.env. */
const ApiEnv = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  AUTOLAB_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('autolab'),
  /** A Redis command on a request path that has no answer after this long fails, and the request gets 503. */
  AUTOLAB_REDIS_COMMAND_TIMEOUT_SECONDS: z.coerce.number().positive().default(2),
  AUTOLAB_DATA_DIR: z.string().default('.data'),
  ...ArtifactStoreEnv,
  AUTOLAB_MODEL: ModelName.default('gpt-4o-mini'),
  /** Per-role defaults for runs that name no model (docs/models.md, "A model per role"). */
  AUTOLAB_MODEL_CODE: ModelName.optional(),
  AUTOLAB_MODEL_JUDGE: ModelName.optional(),
  AUTOLAB_MODEL_WRITEUP: ModelName.optional(),
  AUTOLAB_MODEL_REVIEW: ModelName.optional(),
  AUTOLAB_MODEL_IDEAS: ModelName.optional(),
  /** A model that sees images, for the figure critique; unset: no run has one unless it names it. */
  AUTOLAB_MODEL_VISION: ModelName.optional(),
  /** The same price table as the worker's: a USD budget is refused for a model without a price. */
  AUTOLAB_MODEL_PRICES: PricesSetting,
  /** The built-in sandbox image's tag, listed at GET /v1/images (the worker runs it). */
  AUTOLAB_PYTHON_IMAGE: z.string().default('autolab-python:latest'),
  /** More sandbox images runs may pick (JSON; the worker reads the same setting). */
  AUTOLAB_SANDBOX_IMAGES: SandboxImagesSetting,
  /** Seconds between SSE heartbeat comments. */
  AUTOLAB_SSE_HEARTBEAT_SECONDS: z.coerce.number().positive().default(15),
  /** `off` only for a single user on loopback: every request is then tenant `default` with admin rights. */
  AUTOLAB_AUTH: z.enum(['on', 'off']).default('on'),
  /** Bootstrap admin key (creates the other keys). Not stored anywhere; compare-only. */
  AUTOLAB_ADMIN_KEY: z
    .string()
    .min(24, 'use at least 24 random characters')
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional(),
  /** Requests a minute per API key (bursts up to this many); 0 = no limit. */
  AUTOLAB_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  /** Queued + running runs a tenant may have at once; 0 = no limit. */
  AUTOLAB_TENANT_MAX_ACTIVE_RUNS: z.coerce.number().int().min(0).default(5),
  /** Megabytes one upload may hold (what is sent and what an archive unpacks to). */
  AUTOLAB_UPLOAD_MAX_MB: z.coerce.number().positive().default(1024),
  /** Files one upload may hold (after unpacking). */
  AUTOLAB_UPLOAD_MAX_FILES: z.coerce.number().int().min(1).default(10_000),
  /** Megabytes all of one tenant's uploads may hold together. */
  AUTOLAB_TENANT_UPLOAD_MAX_MB: z.coerce.number().positive().default(10_240),
  /** An archive may unpack to at most this many times its own size (archive bombs are refused early). */
  AUTOLAB_UPLOAD_MAX_UNPACK_RATIO: z.coerce.number().min(1).default(100),
  /** A request's headers must have arrived this long after its first byte, or it gets 408. */
  AUTOLAB_HEADERS_TIMEOUT_SECONDS: z.coerce
    .number()
    .positive()
    .default(DEFAULT_TIMEOUTS.headersMs / 1000),
  /** A JSON body must have arrived this long after its headers, or the request gets 408. */
  AUTOLAB_BODY_TIMEOUT_SECONDS: z.coerce
    .number()
    .positive()
    .default(DEFAULT_TIMEOUTS.bodyMs / 1000),
  /** Any request, an upload included, must have arrived whole this long after its first byte, or it gets 408. */
  AUTOLAB_REQUEST_TIMEOUT_SECONDS: z.coerce
    .number()
    .positive()
    .default(DEFAULT_TIMEOUTS.requestMs / 1000),
  /** A keep-alive connection with no request in flight is closed after this long. */
  AUTOLAB_IDLE_TIMEOUT_SECONDS: z.coerce
    .number()
    .positive()
    .default(DEFAULT_TIMEOUTS.idleMs / 1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

const MIB = 1024 * 1024;

export type ApiConfig = ReturnType<typeof loadApiConfig>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = ApiEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid API configuration:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  for (const part of ['HEADERS', 'BODY'] as const) {
    if (e[`AUTOLAB_${part}_TIMEOUT_SECONDS`] > e.AUTOLAB_REQUEST_TIMEOUT_SECONDS) {
      throw new Error(
        `invalid API configuration: AUTOLAB_${part}_TIMEOUT_SECONDS must not be larger than ` +
          'AUTOLAB_REQUEST_TIMEOUT_SECONDS (it bounds a part of the request)',
      );
    }
  }
  return {
    host: e.HOST,
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.AUTOLAB_REDIS_PREFIX,
    redisCommandTimeoutMs: Math.round(e.AUTOLAB_REDIS_COMMAND_TIMEOUT_SECONDS * 1000),
    artifacts: artifactStoreSettings(e),
    uploadsDir: resolve(e.AUTOLAB_DATA_DIR, 'uploads'),
    uploadLimits: {
      maxBytes: Math.floor(e.AUTOLAB_UPLOAD_MAX_MB * MIB),
      maxFiles: e.AUTOLAB_UPLOAD_MAX_FILES,
      tenantMaxBytes: Math.floor(e.AUTOLAB_TENANT_UPLOAD_MAX_MB * MIB),
      maxUnpackRatio: e.AUTOLAB_UPLOAD_MAX_UNPACK_RATIO,
    },
    models: {
      model: e.AUTOLAB_MODEL,
      roles: {
        code: e.AUTOLAB_MODEL_CODE,
        judge: e.AUTOLAB_MODEL_JUDGE,
        writeup: e.AUTOLAB_MODEL_WRITEUP,
        review: e.AUTOLAB_MODEL_REVIEW,
        ideas: e.AUTOLAB_MODEL_IDEAS,
        vision: e.AUTOLAB_MODEL_VISION,
      },
    },
    prices: e.AUTOLAB_MODEL_PRICES,
    sandboxImages: sandboxImageCatalog(e.AUTOLAB_PYTHON_IMAGE, e.AUTOLAB_SANDBOX_IMAGES),
    heartbeatMs: e.AUTOLAB_SSE_HEARTBEAT_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
    auth: e.AUTOLAB_AUTH === 'on',
    adminKey: e.AUTOLAB_ADMIN_KEY ?? null,
    rateLimitPerMinute: e.AUTOLAB_RATE_LIMIT_PER_MINUTE,
    tenantMaxActiveRuns: e.AUTOLAB_TENANT_MAX_ACTIVE_RUNS,
    timeouts: {
      headersMs: Math.round(e.AUTOLAB_HEADERS_TIMEOUT_SECONDS * 1000),
      bodyMs: Math.round(e.AUTOLAB_BODY_TIMEOUT_SECONDS * 1000),
      requestMs: Math.round(e.AUTOLAB_REQUEST_TIMEOUT_SECONDS * 1000),
      idleMs: Math.round(e.AUTOLAB_IDLE_TIMEOUT_SECONDS * 1000),
    },
  };
}

/** True for hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Without authentication the API must not be reachable from other machines: refuse such a configuration. */
export function assertSafeToListen(config: Pick<ApiConfig, 'auth' | 'host'>): void {
  if (!config.auth && !isLoopbackHost(config.host)) {
    throw new Error(
      `refusing to start: AUTOLAB_AUTH=off on the non-loopback HOST ${JSON.stringify(config.host)} would give ` +
        'anyone who can reach it full control. Turn authentication on, or listen on 127.0.0.1.',
    );
  }
}

function artifactStoreSettings(e: Parameters<typeof artifactStoreConfig>[0]) {
  try {
    return artifactStoreConfig(e);
  } catch (err) {
    throw new Error(`invalid API configuration: ${(err as Error).message}`);
  }
}
