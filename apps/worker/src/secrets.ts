import type { WorkerConfig } from './env.js';

/** Shorter values are not redacted: they would match ordinary text (and no real key is that short). */
const MIN_SECRET_LENGTH = 8;

/**
 * `text` with every secret replaced by `[redacted]`. A secret reaches text when a service echoes it: an endpoint's
 * error message that quotes the request's Authorization header, say.
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join('[redacted]');
  return out;
}

/** JSON data (an event, say) with `redactText` applied to every string in it, keys included. */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redactText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redactText(key, secrets), redactValue(item, secrets)]),
    ) as T;
  }
  return value;
}

/** Every credential the worker holds: none may reach a log line, the transcript, an event or a run's failure. */
export function workerSecrets(config: WorkerConfig): string[] {
  return [
    ...modelSecrets(config.llm),
    config.literature?.semanticScholarApiKey ?? '',
    config.artifacts.kind === 's3' ? (config.artifacts.credentials?.secretAccessKey ?? '') : '',
  ];
}

/** Every credential of the model endpoints: none of them may reach a transcript line. */
export function modelSecrets(llm: WorkerConfig['llm']): string[] {
  const endpoints = Object.values(llm.endpoints);
  return [
    llm.apiKey,
    ...endpoints.map((endpoint) => endpoint.apiKey ?? ''),
    ...endpoints.flatMap((endpoint) => Object.values(endpoint.headers ?? {})),
  ];
}
