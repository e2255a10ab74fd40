import { resolve } from 'node:path';
import { z } from 'zod';

/** The API's configuration, parsed once at start-up; nothing else reads process.env. */
const ApiEnv = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  AUTOLAB_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('autolab'),
  AUTOLAB_DATA_DIR: z.string().default('.data'),
  AUTOLAB_MODEL: z.string().default('gpt-4o-mini'),
  /** Seconds between SSE heartbeat comments. */
  AUTOLAB_SSE_HEARTBEAT_SECONDS: z.coerce.number().positive().default(15),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ApiConfig = ReturnType<typeof loadApiConfig>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = ApiEnv.safeParse(env);
  if (!parsed.success) throw new Error(`invalid API configuration:\n${z.prettifyError(parsed.error)}`);
  const e = parsed.data;
  return {
    host: e.HOST,
    port: e.PORT,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.AUTOLAB_REDIS_PREFIX,
    artifactsDir: resolve(e.AUTOLAB_DATA_DIR, 'artifacts'),
    defaultModel: e.AUTOLAB_MODEL,
    heartbeatMs: e.AUTOLAB_SSE_HEARTBEAT_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
  };
}
