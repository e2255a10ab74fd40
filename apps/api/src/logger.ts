import pino from 'pino';

/** Names of query parameters that may carry secrets (the queue dashboard's `login?key=`), compared decoded. */
const SECRET_NAME = /key|token|secret|passw|auth|session/i;
/** Values that are secrets whatever their parameter is called: our API keys. */
const SECRET_VALUE = /alk_[0-9A-Za-z]{8,}/;

/**
 * The URL with every secret-looking query value masked. Works on the parsed, decoded query — `?%6bey=…`, `?KEY=…`
 * and `?key[]=…` are all a key — so a spelling the router accepts cannot slip a secret into the log.
 */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const index = url.indexOf('?');
  if (index < 0) return url;
  const params = new URLSearchParams(url.slice(index + 1));
  let redacted = false;
  for (const [name, value] of params) {
    if (SECRET_NAME.test(name) || SECRET_VALUE.test(value)) {
      params.set(name, '[redacted]');
      redacted = true;
    }
  }
  if (!redacted) return url;
  return `${url.slice(0, index)}?${params.toString().replaceAll('%5Bredacted%5D', '[redacted]')}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Request logs without secrets: authorization headers, cookies and secret query parameters are redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream) {
  const options: pino.LoggerOptions = {
    name: 'autolab-api',
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        'apiKey',
        'secretAccessKey',
        '*.secretAccessKey',
      ],
      censor: '[redacted]',
    },
    serializers: {
      // Replaces Fastify's request serializer (same fields), with the URL's secrets masked.
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: redactUrl(req.url),
        host: req.host,
        remoteAddress: req.ip,
        remotePort: req.socket?.remotePort,
      }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
