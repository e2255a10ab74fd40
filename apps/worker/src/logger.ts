import pino from 'pino';
import { redactText } from './secrets.js';

/**
 * Secrets never reach a log line: anything that could hold the model key is redacted wherever it appears, by field
 * name, and every value of `secrets` (the worker's credentials) is cut out of each line as written, since an
 * endpoint's error message that a line quotes may echo one.
 */
export function createLogger(
  level: string,
  name: string,
  secrets: readonly string[] = [],
  destination: pino.DestinationStream = pino.destination(1),
) {
  // The credentials as they appear inside a JSON string (a quote or backslash in one is escaped there).
  const written = secrets.map((secret) => JSON.stringify(secret).slice(1, -1));
  const scrubbed: pino.DestinationStream = { write: (line: string) => destination.write(redactText(line, written)) };
  return pino(
    {
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
    },
    scrubbed,
  );
}
