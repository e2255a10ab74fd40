import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ArtifactStoreUnavailableError, isRedisUnavailable } from '@autolab/store';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { API_ERRORS, ApiError, type ApiErrorCode } from './errors.js';

/**
 * How every failure becomes an answer in the one error shape, whoever raised it: a route (`ApiError`), schema
 * validation, Fastify's body parsing, Fastify's router (a URL it cannot decode, a parameter longer than it accepts,
 * which no route or hook sees), and Node's HTTP parser (malformed requests, oversized headers, timeouts, which never
 * become a request at all and are answered on the socket).
 */
export interface ErrorAnswer {
  status: number;
  code: ApiErrorCode;
  message: string;
  details?: unknown;
  /** Headers that go with the answer (`Retry-After`). */
  headers?: Record<string, string>;
}

/**
 * Seconds a client should wait after a 503 `unavailable`: the clients reconnect within a second or two of Redis
 * coming back, so retrying sooner than this mostly meets the same outage.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export const errorBody = (answer: ErrorAnswer) => ({
  error: {
    code: answer.code,
    message: answer.message,
    ...(answer.details === undefined ? {} : { details: answer.details }),
  },
});

const catalog = (code: ApiErrorCode, message?: string, details?: unknown): ErrorAnswer => ({
  status: API_ERRORS[code].status,
  code,
  message: message ?? API_ERRORS[code].message,
  ...(details === undefined ? {} : { details }),
});

/** Fastify's own error codes that have an entry in the catalog. */
const BY_FASTIFY_CODE: Record<string, ApiErrorCode> = {
  FST_ERR_BAD_URL: 'invalid_url',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

/** Maps anything thrown in a route or hook to the one error shape; bad input is never a 500. */
export function errorAnswer(err: FastifyError | ApiError | Error): ErrorAnswer {
  if (err instanceof ApiError) return catalog(err.code, err.message, err.details);
  // A dependency outage, not a bug: the same request may well succeed later.
  if (isRedisUnavailable(err))
    return { ...catalog('unavailable'), headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) } };
  // The cause (which the log has) may name the bucket and endpoint: the client gets the catalog's message.
  if (err instanceof ArtifactStoreUnavailableError)
    return {
      ...catalog('artifact_store_unavailable'),
      headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
    };
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => ({
      path: (v.instancePath || '/').replace(/^\//, '').replace(/\//g, '.') || '(root)',
      message: v.message,
      in: err.validationContext,
    }));
    const first = issues[0];
    return catalog('validation_failed', first && `Invalid ${first.in} ${first.path}: ${first.message}`, { issues });
  }
  const fastify = err as FastifyError;
  // The catalog's message, not the framework's: Fastify's repeats the URL, which may hold anything the client sent.
  const mapped = fastify.code ? BY_FASTIFY_CODE[fastify.code] : undefined;
  if (mapped) return catalog(mapped);
  if (err instanceof SyntaxError || fastify.statusCode === 400) {
    return catalog('invalid_json', `${API_ERRORS.invalid_json.message} ${err.message}`);
  }
  if (fastify.statusCode && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return { status: fastify.statusCode, code: 'bad_request', message: err.message };
  }
  return catalog('internal_error');
}

/**
 * Fastify's `frameworkErrors` option: errors its router raises before any route is chosen (no hook runs, so neither
 * the error handler nor auth sees them). Nothing is read from a key here; the answer reveals nothing about routes.
 */
export function answerFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const answer = errorAnswer(err);
  return reply
    .code(answer.status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(errorBody(answer)));
}

/** A request line longer than this is a too-long URL rather than too many headers. */
const URL_LIMIT_BYTES = 8 * 1024;

const PARSER_MESSAGES: Record<string, string> = {
  HPE_INVALID_HEADER_TOKEN: 'A header name or value contains a character that HTTP does not allow.',
  HPE_INVALID_CONTENT_LENGTH: 'The Content-Length header is not a valid number.',
  HPE_UNEXPECTED_CONTENT_LENGTH:
    'The request has more than one Content-Length, or one together with Transfer-Encoding: chunked.',
  HPE_INVALID_TRANSFER_ENCODING: 'The Transfer-Encoding header is not valid.',
  HPE_INVALID_CHUNK_SIZE: 'The chunked request body is malformed.',
  HPE_INVALID_METHOD: 'The request line does not start with an HTTP method.',
  HPE_INVALID_VERSION: 'The request is not HTTP/1.0 or HTTP/1.1.',
  HPE_INVALID_URL: 'The request line does not hold a valid URL.',
};

/** An error of Node's HTTP server about a connection; `rawPacket` holds the bytes the parser choked on. */
type ClientError = Error & { code?: string; rawPacket?: unknown };

/** What to answer to an error of Node's HTTP server about a connection (`clientError`); null: nothing to answer. */
export function clientErrorAnswer(err: ClientError): ErrorAnswer | null {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return catalog('request_timeout');
    case 'HPE_HEADER_OVERFLOW': {
      const packet = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : null;
      const lineEnd = packet ? packet.indexOf('\r\n') : -1;
      const requestLine = packet ? (lineEnd === -1 ? packet.length : lineEnd) : 0;
      return requestLine > URL_LIMIT_BYTES ? catalog('uri_too_long') : catalog('headers_too_large');
    }
    default:
      return catalog(
        'bad_request',
        (err.code && PARSER_MESSAGES[err.code]) ?? `${API_ERRORS.bad_request.message} It is not valid HTTP/1.1.`,
        err.code?.startsWith('HPE_') ? { parserError: err.code } : undefined,
      );
  }
}

/**
 * Node's `clientError`: the request could not be parsed (or did not arrive in time), so there is no request for
 * Fastify to handle. Answers on the socket in the error shape, when nothing has been answered on it yet, and closes
 * it. Logs the error's code only: the raw bytes of the request (`rawPacket`) may hold a key.
 */
export function answerClientError(
  log: { debug(obj: object, msg: string): void } | null,
  err: ClientError,
  socket: Duplex,
): void {
  const answer = clientErrorAnswer(err);
  log?.debug({ code: err.code, status: answer?.status ?? null }, 'malformed or incomplete request');
  if (socket.destroyed) return;
  // A response of this connection may already be under way (an error in the middle of a body): its status line has
  // gone out, and another answer would corrupt the stream. Node's own handler makes the same check.
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (answer && socket.writable && !current?.headersSent) {
    const body = JSON.stringify(errorBody(answer));
    // The answer to a HEAD request has no body (its client would read the body as the start of the next answer).
    const head = Buffer.isBuffer(err.rawPacket) && err.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
    socket.end(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        (head ? '' : body),
    );
    // end() lets the answer out first; a client that never reads it must not keep the socket.
    setTimeout(() => socket.destroy(), 5_000).unref();
    return;
  }
  socket.destroy();
}
