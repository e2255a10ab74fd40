import type { RateLimiter } from '@autolab/store';
import fastifyRateLimit, { type FastifyRateLimitStore, normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** The per-key request limit: our GCRA limiter (one `EVALSHA` per request), counted per `perMinute` a minute. */
export interface RateLimitSettings {
  limiter: RateLimiter;
  perMinute: number;
}

/** Counts one request of the caller and throws 429 `rate_limited` (with its headers set) when it is over. */
export type RequestLimit = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

const WINDOW_MS = 60_000;

/**
 * The bucket a request counts against: its API key once the auth plugin has identified it (`onRequest`, before this
 * plugin's hook), else its client address (IPv6 by /64, as the plugin does), so guessing keys is limited too.
 */
export const rateLimitBucket = (request: FastifyRequest) =>
  request.principal ? request.principal.keyId : `unauthenticated:${normalizeIP(request.ip)}`;

/**
 * The plugin's store backed by our GCRA limiter rather than the plugin's Redis store, which counts per fixed window
 * and so lets up to twice the limit through around a window's edge. One budget per bucket across all routes
 * (`child` shares it), as before.
 */
export function gcraStore(limiter: RateLimiter) {
  return class GcraStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
      max: number,
    ): void {
      limiter.hit(key, max, timeWindow).then(
        // The plugin refuses when current > max and reports max - current as remaining.
        (hit) => callback(null, { current: hit.allowed ? max - hit.remaining : max + 1, ttl: hit.waitMs }),
        (err: Error) => callback(err),
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/**
 * `@fastify/rate-limit` on every route registered after it, as a route-level `onRequest` hook: after routing (so any
 * spelling of a path that reaches a route is counted like the plain one) and after the auth plugin's app-level
 * `onRequest` has identified the caller, before the auth plugin decides 401/403 (`preParsing`), so a flood of bad
 * keys gets 429 rather than 401. Public routes are not counted. Returns the same limit as a function, for the
 * requests no route's hook sees: those that reach no route (404) and the queue dashboard's refused logins.
 */
export async function registerRateLimit(app: FastifyInstance, settings: RateLimitSettings): Promise<RequestLimit> {
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    max: settings.perMinute,
    timeWindow: WINDOW_MS,
    store: gcraStore(settings.limiter),
    keyGenerator: rateLimitBucket,
    allowList: (request) => request.routeOptions.config.access?.auth === 'public',
    skipOnError: false,
    errorResponseBuilder: (_request, context) =>
      new ApiError('rate_limited', undefined, {
        limitPerMinute: context.max,
        retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  });
  // Outside the route hooks: no allow list (a public login route counts its refusals).
  const check = app.rateLimit({ allowList: () => false });
  return async (request, reply) => {
    await check.call(app, request, reply);
  };
}
