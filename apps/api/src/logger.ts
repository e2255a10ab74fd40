import pino from 'pino';

/** Request logs without secrets: authorization headers are redacted. */
export function createLogger(level: string) {
  return pino({
    name: 'autolab-api',
    level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'apiKey'], censor: '[redacted]' },
  });
}
