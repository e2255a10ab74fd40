import type { Server } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

/** How long the server waits for a client, in milliseconds. */
export interface HttpTimeouts {
  /** From a request's first byte until its headers are in (AUTOLAB_HEADERS_TIMEOUT_SECONDS). */
  headersMs: number;
  /** From a request's headers until its JSON body is in (AUTOLAB_BODY_TIMEOUT_SECONDS). */
  bodyMs: number;
  /** From a request's first byte until all of it is in, an upload included (AUTOLAB_REQUEST_TIMEOUT_SECONDS). */
  requestMs: number;
  /** A keep-alive connection with no request in flight (AUTOLAB_IDLE_TIMEOUT_SECONDS). */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  headersMs: 10_000,
  bodyMs: 30_000,
  requestMs: 30 * 60_000,
  idleMs: 72_000,
};

/**
 * The server options that bound how long a client can hold a connection without completing a request: Node's headers
 * and request timeouts (slow headers, or a request that never ends, get `408 request_timeout` from the clientError
 * handler) and the keep-alive timeout. The request timeout is long because uploads stream through it; ordinary bodies
 * have the much shorter body deadline (`addBodyDeadline`).
 *
 * Every one of these ends when the request has *arrived*, never while the answer is being sent, so an event stream or
 * a large download that a client reads for an hour is not cut. For the same reason there is no socket inactivity
 * timeout (`connectionTimeout`): a quiet event stream between heartbeats, or a download waiting on a slow reader, is
 * idle without being abandoned.
 */
export function serverTimeouts(timeouts: HttpTimeouts = DEFAULT_TIMEOUTS) {
  return {
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.idleMs,
    connectionTimeout: 0,
    http: {
      requestTimeout: timeouts.requestMs,
      headersTimeout: timeouts.headersMs,
      keepAliveTimeout: timeouts.idleMs,
      // Node checks its connections' timeouts at this interval (30 s by default, which would let a slow client
      // overstay a 10 s timeout threefold).
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(timeouts.headersMs / 4))),
    },
  } satisfies Partial<FastifyHttpOptions<Server>>;
}

/**
 * A body that Fastify parses (JSON: at most 64 KB) must have arrived within `bodyMs` of its headers, or the request
 * is answered `408 request_timeout` (and the connection closed, as for any answer given before the body is in).
 * Routes that stream their own body (uploads, `config.accepts`) read the raw request and are bounded by the request
 * timeout instead.
 */
export function addBodyDeadline(app: FastifyInstance, bodyMs: number): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (request.raw.complete || request.routeOptions.config?.accepts) return payload;
    const guarded = new PassThrough();
    const timer = setTimeout(() => {
      payload.unpipe(guarded);
      guarded.destroy(
        new ApiError('request_timeout', `The request body did not arrive within ${bodyMs / 1000} seconds.`),
      );
    }, bodyMs);
    const stop = () => clearTimeout(timer);
    guarded.once('end', stop);
    guarded.once('close', stop);
    payload.once('error', (err) => guarded.destroy(err));
    (payload as Readable).pipe(guarded);
    return guarded;
  });
}
