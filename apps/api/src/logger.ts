import pino from 'pino';

/** Query parameters that carry secrets (the queue dashboard's `login?key=`). */
const SECRET_QUERY = /([?&](?:key|api_key|token)=)[^&#]*/gi;

export const redactUrl = (url: string | undefined) => url?.replace(SECRET_QUERY, '$1[redacted]');

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
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'apiKey'],
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
