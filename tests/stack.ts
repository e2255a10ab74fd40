import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadApiConfig, type RunningApi, startApi } from '@autolab/api';
import {
  type ErrorBody,
  type NewEvent,
  RunEvent,
  type RunRecord,
  STREAM_ERROR_EVENT,
  type UploadRecord,
} from '@autolab/contracts';
import { RedisKeys, RunStore } from '@autolab/store';
import { type ScriptedServer, startScriptedServer } from '@autolab/testing';
import { createLogger, loadWorkerConfig, type RunningWorker, startWorker, workerSecrets } from '@autolab/worker';
import { Redis } from 'ioredis';
import { deleteKeysWithPrefix } from './test-resources.js';

export const SCENARIO_DIR = fileURLToPath(new URL('../packages/testing/scenarios', import.meta.url));
/** The key the worker is given; tests assert it never shows up where it must not. */
export const TEST_API_KEY = 'sk-autolab-test-key-that-must-never-leak-0123456789';

export interface Stack {
  apiUrl: string;
  /** AUTOLAB_ADMIN_KEY of this stack's API. */
  adminKey: string;
  /** A key of tenant `test`, created at start; `api()`, `submitRun()`, `readSse()`, `waitForStatus()` send it. */
  apiKey: string;
  scripted: ScriptedServer;
  prefix: string;
  dataDir: string;
  api: RunningApi;
  worker: RunningWorker | null;
  redis: Redis;
  /** Starts (another) in-process worker. */
  startWorker(extraEnv?: Record<string, string>): Promise<RunningWorker>;
  workerEnv(extraEnv?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

/**
 * API + worker + scripted model server, in this process, on real ports, against the real Redis and Docker engine.
 * Each stack has its own Redis key prefix and data directory, so stacks never see each other's runs.
 */
export async function startStack(
  options: {
    worker?: boolean;
    workerEnv?: Record<string, string>;
    apiEnv?: Record<string, string>;
    /** Another Redis server than the services' one (REDIS_URL). */
    redisUrl?: string;
    /** A chosen key prefix instead of a random one (two stacks on different Redis servers may share one). */
    prefix?: string;
  } = {},
): Promise<Stack> {
  const prefix = options.prefix ?? `autolab-test-${randomBytes(4).toString('hex')}`;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dataDir = await mkdtemp(join(tmpdir(), 'autolab-test-'));
  const scripted = await startScriptedServer({ scenarioDirs: [SCENARIO_DIR] });
  const common = {
    ...process.env,
    REDIS_URL: redisUrl,
    AUTOLAB_REDIS_PREFIX: prefix,
    AUTOLAB_DATA_DIR: dataDir,
    AUTOLAB_MODEL: 'demo',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const adminKey = `test-admin-${randomBytes(16).toString('hex')}`;
  const api = await startApi(
    loadApiConfig({
      ...common,
      HOST: '127.0.0.1',
      PORT: '0',
      AUTOLAB_SSE_HEARTBEAT_SECONDS: '1',
      AUTOLAB_AUTH: 'on',
      AUTOLAB_ADMIN_KEY: adminKey,
      // Tests poll fast and queue many runs; the tests of these limits set them low.
      AUTOLAB_RATE_LIMIT_PER_MINUTE: '100000',
      AUTOLAB_TENANT_MAX_ACTIVE_RUNS: '1000',
      ...(options.apiEnv ?? {}),
    }),
  );
  const created = await fetch(`${api.url}/v1/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'test', name: 'e2e tests' }),
  });
  if (created.status !== 201) {
    await api.close();
    throw new Error(`could not create the test API key: ${created.status} ${await created.text()}`);
  }
  const apiKey = ((await created.json()) as { key: string }).key;
  const workerEnv = (extra: Record<string, string> = {}) =>
    ({
      ...common,
      OPENAI_BASE_URL: scripted.baseUrl,
      OPENAI_API_KEY: TEST_API_KEY,
      AUTOLAB_JOB_LOCK_SECONDS: '5',
      AUTOLAB_LLM_MAX_ATTEMPTS: '3',
      // No warm sandboxes unless a test asks for them: idle containers would only add load to a shared, busy engine.
      AUTOLAB_SANDBOX_WARM_POOL: '0',
      // Tests never reach the internet: unless a test brings its own fake, the literature search is unreachable
      // (nothing listens on port 9) and the run goes on without citations.
      AUTOLAB_SEMANTIC_SCHOLAR_URL: 'http://127.0.0.1:9',
      AUTOLAB_OPENALEX_URL: 'http://127.0.0.1:9',
      ...(options.workerEnv ?? {}),
      ...extra,
    }) as Record<string, string>;
  const workers: RunningWorker[] = [];
  const launch = async (extra?: Record<string, string>) => {
    const config = loadWorkerConfig(workerEnv(extra));
    const worker = await startWorker(
      { ...config, workerId: `test-${randomBytes(3).toString('hex')}` },
      // As main.ts builds it: the worker's credentials are cut out of its log lines.
      createLogger(config.logLevel, 'worker', workerSecrets(config)),
    );
    workers.push(worker);
    return worker;
  };
  const worker = options.worker === false ? null : await launch();
  const redis = new Redis(redisUrl);
  // Outage drills stop this Redis on purpose: the client reconnects by itself.
  redis.on('error', () => undefined);
  return {
    apiUrl: api.url,
    adminKey,
    apiKey,
    scripted,
    prefix,
    dataDir,
    api,
    worker,
    redis,
    startWorker: launch,
    workerEnv,
    async close() {
      await Promise.all(workers.map((w) => w.close().catch(() => undefined)));
      await api.close();
      await scripted.close();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Which key a helper sends: the stack's tenant key by default, another key, or none (`null`). */
export interface KeyOption {
  key?: string | null;
}

/** `Authorization: Bearer <key>` for `key` (default: the stack's tenant key); no header for `null`. */
export function authHeaders(stack: Stack, key: string | null = stack.apiKey): Record<string, string> {
  return key === null ? {} : { authorization: `Bearer ${key}` };
}

/** Uploads files (name → content) as one upload of the stack's default tenant; fails the test unless it is created. */
export async function uploadFiles(stack: Stack, files: Record<string, string>): Promise<UploadRecord> {
  const form = new FormData();
  for (const [name, content] of Object.entries(files)) form.append('file', new Blob([content]), name);
  const res = await fetch(`${stack.apiUrl}/v1/uploads`, { method: 'POST', headers: authHeaders(stack), body: form });
  if (res.status !== 201) throw new Error(`upload refused: ${res.status} ${await res.text()}`);
  return (await res.json()) as UploadRecord;
}

/** The evolve example (examples/evolve/circle-packing): its program and its evaluator, as two uploads. */
export async function uploadCirclePacking(stack: Stack): Promise<{ code: string; evaluator: string }> {
  const example = fileURLToPath(new URL('../examples/evolve/circle-packing/', import.meta.url));
  const code = await uploadFiles(stack, { 'program.py': await readFile(join(example, 'program.py'), 'utf8') });
  const evaluator = await uploadFiles(stack, {
    'evaluate.py': await readFile(join(example, 'evaluator/evaluate.py'), 'utf8'),
  });
  return { code: code.id, evaluator: evaluator.id };
}

/**
 * Submits an evolve run of the circle-packing example (`body` adds to or overrides `mode`, `inputs` and a 60 s
 * program limit); fails the test unless it is accepted. Its id.
 */
export async function submitEvolveRun(stack: Stack, body: Record<string, unknown>): Promise<string> {
  const submitted = await api<{ id: string }>(stack, '/v1/runs', {
    method: 'POST',
    body: JSON.stringify({
      mode: 'evolve',
      inputs: await uploadCirclePacking(stack),
      sandbox: { execTimeoutSeconds: 60 },
      ...body,
    }),
  });
  if (submitted.status !== 202)
    throw new Error(`evolve run refused: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  return submitted.body.id;
}

export async function api<T = unknown>(
  stack: Stack,
  path: string,
  init: RequestInit & KeyOption = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const { key, ...rest } = init;
  const res = await fetch(`${stack.apiUrl}${path}`, {
    ...rest,
    headers: {
      ...(rest.body ? { 'content-type': 'application/json' } : {}),
      ...authHeaders(stack, key === undefined ? stack.apiKey : key),
      ...((rest.headers as Record<string, string> | undefined) ?? {}),
    },
  });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : await res.text();
  return { status: res.status, body: body as T, headers: res.headers };
}

export async function submitRun(
  stack: Stack,
  body: Record<string, unknown>,
  options: KeyOption = {},
): Promise<RunRecord> {
  const res = await api<RunRecord>(stack, '/v1/runs', { method: 'POST', body: JSON.stringify(body), ...options });
  if (res.status !== 202) throw new Error(`submit failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Reads the SSE stream with a plain HTTP client until the server ends it (or `stopWhen` says stop). */
export async function readSse(
  stack: Stack,
  runId: string,
  options: {
    lastEventId?: string;
    stopWhen?: (event: RunEvent) => boolean;
    timeoutMs?: number;
    /** Called with each event as it arrives. */
    onEvent?: (event: RunEvent) => void;
  } & KeyOption = {},
): Promise<{
  events: RunEvent[];
  ended: boolean;
  raw: string;
  status: number;
  /** The data of a `stream.error` frame (the API's error shape), which ends the stream; null without one. */
  streamError: ErrorBody | null;
}> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 300_000);
  const res = await fetch(`${stack.apiUrl}/v1/runs/${runId}/events`, {
    headers: {
      accept: 'text/event-stream',
      ...authHeaders(stack, options.key === undefined ? stack.apiKey : options.key),
      ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
    },
    signal: controller.signal,
  });
  const events: RunEvent[] = [];
  let raw = '';
  let buffer = '';
  let ended = false;
  let streamError: ErrorBody | null = null;
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    clearTimeout(timer);
    return { events, ended: true, raw: await res.text(), status: res.status, streamError };
  }
  try {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      raw += text;
      buffer += text;
      let stop = false;
      for (let index = buffer.indexOf('\n\n'); index >= 0; index = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        const data = frame
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (!data) continue;
        if (frame.split('\n').includes(`event: ${STREAM_ERROR_EVENT}`)) {
          streamError = JSON.parse(data) as ErrorBody;
          continue;
        }
        const event = JSON.parse(data) as RunEvent;
        events.push(event);
        options.onEvent?.(event);
        if (options.stopWhen?.(event)) stop = true;
      }
      if (stop) {
        controller.abort();
        return { events, ended: false, raw, status: res.status, streamError };
      }
    }
    ended = true;
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return { events, ended, raw, status: res.status, streamError };
}

export async function waitForStatus(
  stack: Stack,
  runId: string,
  statuses: string[],
  timeoutMs = 300_000,
  options: KeyOption = {},
): Promise<RunRecord> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api<RunRecord>(stack, `/v1/runs/${runId}`, options);
    if (statuses.includes(body.status)) return body;
    if (Date.now() > end) throw new Error(`run ${runId} is still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Writes events to a run's real stream as a worker would, without one: each checked by the contracts' schema and
 * written with its defaults filled in (so a test can only send shapes a worker sends).
 */
export async function appendWorkerEvents(stack: Stack, runId: string, events: readonly NewEvent[]): Promise<void> {
  const store = new RunStore(stack.redis, new RedisKeys(stack.prefix));
  for (const event of events) {
    const checked = RunEvent.safeParse({ id: '1-0', runId, time: new Date().toISOString(), ...event });
    if (!checked.success) throw new Error(`${event.type}: ${checked.error.message}`);
    const { type, message, data } = checked.data;
    await store.appendEvent(runId, { type, message, data } as NewEvent);
  }
}
