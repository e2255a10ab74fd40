import { hostname } from 'node:os';
import { resolve } from 'node:path';
import {
  MODEL_MODE_SETTINGS,
  ModelEndpointsSetting,
  PricesSetting,
  SandboxImagesSetting,
  sandboxImageCatalog,
} from '@autolab/contracts';
import { ArtifactStoreEnv, artifactStoreConfig } from '@autolab/store';
import { z } from 'zod';

/** The worker's configuration, parsed once at start-up; nothing else reads process.env. */
const WorkerEnv = z.object({
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  AUTOLAB_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('autolab'),
  AUTOLAB_DATA_DIR: z.string().default('.data'),
  ...ArtifactStoreEnv,
  AUTOLAB_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  AUTOLAB_WORKER_ID: z.string().optional(),
  AUTOLAB_PYTHON_IMAGE: z.string().default('autolab-python:latest'),
  AUTOLAB_LATEX_IMAGE: z.string().default('autolab-latex:latest'),
  /** More sandbox images runs may pick by name (JSON; the API reads the same setting). */
  AUTOLAB_SANDBOX_IMAGES: SandboxImagesSetting,
  /** The engine; unset: dockerode's default (the local socket). */
  DOCKER_HOST: z.string().optional(),
  /** How long a run waits for an unreachable Docker engine before it fails with docker_unavailable. */
  AUTOLAB_DOCKER_RETRY_SECONDS: z.coerce.number().min(0).max(3600).default(60),
  /** `runsc` runs sandboxes under gVisor (registered with the Docker engine); `runc` is Docker's default. */
  AUTOLAB_SANDBOX_RUNTIME: z.enum(['runc', 'runsc']).default('runc'),
  /**
   * Idle experiment sandboxes the worker keeps started, so a run's first experiment need not wait for a container;
   * each is used by one run only and removed after it. 0 turns the pool off.
   */
  AUTOLAB_SANDBOX_WARM_POOL: z.coerce.number().int().min(0).max(64).default(2),
  /** An idle warm sandbox older than this is replaced by a new one; 0: kept until a run takes it. */
  AUTOLAB_SANDBOX_WARM_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(600),
  /** What is copied out of a sandbox after each program; the rest stays in the sandbox and is reported. */
  AUTOLAB_SANDBOX_MAX_OUTPUT_MB: z.coerce.number().positive().max(10_000).default(100),
  AUTOLAB_SANDBOX_MAX_FILE_MB: z.coerce.number().positive().max(10_000).default(20),
  AUTOLAB_SANDBOX_MAX_FILES: z.coerce.number().int().min(1).max(100_000).default(50),
  OPENAI_API_KEY: z.string().default(''),
  OPENAI_BASE_URL: z.string().url().optional(),
  AUTOLAB_MODEL_PRICES: PricesSetting,
  /** Models served elsewhere than OPENAI_BASE_URL (JSON: model → {baseUrl, apiKey?, mode?, headers?, query?}). */
  AUTOLAB_MODEL_ENDPOINTS: ModelEndpointsSetting,
  /** How tool calls are asked of the model: `auto` finds out per endpoint and model (docs/models.md). */
  AUTOLAB_MODEL_MODE: z.enum(MODEL_MODE_SETTINGS).default('auto'),
  /** How long `auto` trusts the mode it found for an endpoint and model before finding out anew. */
  AUTOLAB_MODEL_MODE_TTL_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
  AUTOLAB_LLM_TIMEOUT_SECONDS: z.coerce.number().positive().default(120),
  AUTOLAB_LLM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** `off` runs without literature search (no novelty checks, no citations). */
  AUTOLAB_LITERATURE: z.enum(['on', 'off']).default('on'),
  AUTOLAB_SEMANTIC_SCHOLAR_URL: z.string().url().default('https://api.semanticscholar.org'),
  AUTOLAB_OPENALEX_URL: z.string().url().default('https://api.openalex.org'),
  SEMANTIC_SCHOLAR_API_KEY: z.string().optional(),
  AUTOLAB_OPENALEX_MAILTO: z.string().optional(),
  /** Serves Prometheus metrics at http://HOST:PORT/metrics when set (0: a free port); unset: not served. */
  AUTOLAB_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Where the metrics listen: loopback by default; a Prometheus on another host needs the worker's address. */
  AUTOLAB_WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
  /**
   * How long a finished run's events and checkpoint stay in Redis before they move to the artifact store (the events
   * API serves them from there alike; a rerun resumes from there). 0: as soon as the run finishes.
   */
  AUTOLAB_EVENTS_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365 * 24 * 3600)
    .default(3600),
  /** The lessons block of one prompt, in tokens (about 4 characters each; docs/lessons.md). 0: no lessons in prompts. */
  AUTOLAB_LESSONS_PROMPT_TOKENS: z.coerce.number().int().min(0).max(8000).default(600),
  /** An embeddings model at the OpenAI-compatible endpoint: lessons are then retrieved by meaning too (hybrid). */
  AUTOLAB_EMBEDDINGS_MODEL: z.string().optional(),
  /** The cosine similarity at which a lesson counts as relevant in hybrid retrieval (model-dependent). */
  AUTOLAB_EMBEDDINGS_MIN_SIMILARITY: z.coerce.number().min(-1).max(1).default(0.45),
  /** How long a job lock lives without renewal; a killed worker's run is re-delivered after about this long. */
  AUTOLAB_JOB_LOCK_SECONDS: z.coerce.number().int().min(5).max(600).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = WorkerEnv.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid worker configuration:\n${z.prettifyError(parsed.error)}`);
  }
  const e = parsed.data;
  return {
    redisUrl: e.REDIS_URL,
    redisPrefix: e.AUTOLAB_REDIS_PREFIX,
    artifacts: artifactStoreSettings(e),
    uploadsDir: resolve(e.AUTOLAB_DATA_DIR, 'uploads'),
    concurrency: e.AUTOLAB_WORKER_CONCURRENCY,
    workerId: e.AUTOLAB_WORKER_ID ?? `${hostname()}-${process.pid}`,
    images: { python: e.AUTOLAB_PYTHON_IMAGE, latex: e.AUTOLAB_LATEX_IMAGE },
    /** The images experiments may run in, by the name a run gives (`python` is AUTOLAB_PYTHON_IMAGE). */
    sandboxImages: sandboxImageCatalog(e.AUTOLAB_PYTHON_IMAGE, e.AUTOLAB_SANDBOX_IMAGES),
    /** For log lines. */
    dockerHost: e.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
    /** The engine the sandboxes go to (`dockerConnection`), as configured; undefined: dockerode's default. */
    dockerHostSetting: e.DOCKER_HOST,
    dockerRetryMs: e.AUTOLAB_DOCKER_RETRY_SECONDS * 1000,
    sandboxRuntime: e.AUTOLAB_SANDBOX_RUNTIME,
    warmPool: { size: e.AUTOLAB_SANDBOX_WARM_POOL, idleTtlMs: e.AUTOLAB_SANDBOX_WARM_TTL_SECONDS * 1000 },
    outputLimits: {
      maxFiles: e.AUTOLAB_SANDBOX_MAX_FILES,
      maxFileBytes: Math.round(e.AUTOLAB_SANDBOX_MAX_FILE_MB * 1024 * 1024),
      maxTotalBytes: Math.round(e.AUTOLAB_SANDBOX_MAX_OUTPUT_MB * 1024 * 1024),
    },
    llm: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      prices: e.AUTOLAB_MODEL_PRICES,
      endpoints: e.AUTOLAB_MODEL_ENDPOINTS,
      mode: e.AUTOLAB_MODEL_MODE,
      modeTtlMs: e.AUTOLAB_MODEL_MODE_TTL_HOURS * 3_600_000,
      timeoutMs: e.AUTOLAB_LLM_TIMEOUT_SECONDS * 1000,
      maxAttempts: e.AUTOLAB_LLM_MAX_ATTEMPTS,
    },
    literature:
      e.AUTOLAB_LITERATURE === 'off'
        ? null
        : {
            semanticScholarUrl: e.AUTOLAB_SEMANTIC_SCHOLAR_URL,
            openAlexUrl: e.AUTOLAB_OPENALEX_URL,
            semanticScholarApiKey: e.SEMANTIC_SCHOLAR_API_KEY || undefined,
            openAlexMailto: e.AUTOLAB_OPENALEX_MAILTO || undefined,
          },
    jobLockMs: e.AUTOLAB_JOB_LOCK_SECONDS * 1000,
    eventsRetentionMs: e.AUTOLAB_EVENTS_RETENTION_SECONDS * 1000,
    lessonsPromptTokens: e.AUTOLAB_LESSONS_PROMPT_TOKENS,
    embeddings: { model: e.AUTOLAB_EMBEDDINGS_MODEL || null, minSimilarity: e.AUTOLAB_EMBEDDINGS_MIN_SIMILARITY },
    metrics: { port: e.AUTOLAB_WORKER_METRICS_PORT ?? null, host: e.AUTOLAB_WORKER_METRICS_HOST },
    logLevel: e.LOG_LEVEL,
  };
}

function artifactStoreSettings(e: Parameters<typeof artifactStoreConfig>[0]) {
  try {
    return artifactStoreConfig(e);
  } catch (err) {
    throw new Error(`invalid worker configuration: ${(err as Error).message}`);
  }
}
