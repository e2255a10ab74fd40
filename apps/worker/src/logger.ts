import pino from 'pino';

/** Secrets never reach a log line: anything that could hold the model key is redacted wherever it appears. */
export function createLogger(level: string, name: string) {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'apiKey',
        '*.apiKey',
        '*.*.apiKey',
        'headers.authorization',
        '*.headers.authorization',
        'OPENAI_API_KEY',
        // The artifact store's key (AUTOLAB_S3_SECRET_ACCESS_KEY), should a configuration object ever be logged.
        'secretAccessKey',
        '*.secretAccessKey',
        '*.*.secretAccessKey',
      ],
      censor: '[redacted]',
    },
  });
}
