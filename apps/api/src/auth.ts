import { createHash, timingSafeEqual } from 'node:crypto';
import { API_KEY_PATTERN, type Principal } from '@autolab/contracts';
import { type ApiKeyStore, hashSecret, type RateLimiter, type RedisKeys, randomBase62 } from '@autolab/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling. Set on every `/v1` and `/admin` request; null on public routes (health, docs, dashboard). */
    principal: Principal | null;
  }
}

export interface AuthOptions {
  /** false: no keys; every request is tenant `default` with admin rights (loopback only, see env.ts). */
  enabled: boolean;
  /** The bootstrap admin key from AUTOLAB_ADMIN_KEY, if any. */
  adminKey: string | null;
  keys: ApiKeyStore;
  sessions: AdminSessions;
  /** Per-key limit on `/v1` requests; null = none. */
  limiter: RateLimiter | null;
}

/** The queue dashboard (bull-board) lives here; it is for admins only. */
export const ADMIN_UI_PREFIX = '/admin/queues';
export const ADMIN_LOGIN_PATH = `${ADMIN_UI_PREFIX}/login`;
export const ADMIN_LOGOUT_PATH = `${ADMIN_UI_PREFIX}/logout`;
export const ADMIN_COOKIE = 'autolab_admin';

const BOOTSTRAP_KEY_ID = 'admin-env';
const ANONYMOUS: Principal = Object.freeze({ keyId: 'anonymous', tenant: 'default', admin: true });

type Area = 'api' | 'admin-ui' | 'admin-login' | 'public';

/** Which rules a path falls under: everything under /v1 needs a key, the queue dashboard an admin key. */
export function areaOf(url: string): Area {
  const path = url.split('?')[0] ?? '';
  if (path === '/v1' || path.startsWith('/v1/')) return 'api';
  if (path === ADMIN_LOGIN_PATH || path === ADMIN_LOGOUT_PATH) return 'admin-login';
  if (path === ADMIN_UI_PREFIX || path.startsWith(`${ADMIN_UI_PREFIX}/`)) return 'admin-ui';
  return 'public';
}

/** The key in `Authorization: Bearer <key>`, or null. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

function cookie(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Resolves keys to principals: the bootstrap admin key (compared in constant time) or a stored key (looked up by
 * its SHA-256). Strings that cannot be keys never reach Redis.
 */
export class KeyResolver {
  private readonly adminDigest: Buffer | null;

  constructor(
    private readonly keys: ApiKeyStore,
    adminKey: string | null,
  ) {
    this.adminDigest = adminKey ? sha256(adminKey) : null;
  }

  async resolve(secret: string | null): Promise<Principal | null> {
    if (!secret || secret.length > 200) return null;
    if (this.adminDigest && timingSafeEqual(sha256(secret), this.adminDigest)) {
      return { keyId: BOOTSTRAP_KEY_ID, tenant: 'default', admin: true };
    }
    if (!API_KEY_PATTERN.test(secret)) return null;
    const record = await this.keys.verify(secret);
    return record ? { keyId: record.id, tenant: record.tenant, admin: record.admin } : null;
  }

  /** Whether the key behind a session still exists, is not revoked and is still an admin key. */
  async stillAdmin(keyId: string): Promise<boolean> {
    if (keyId === BOOTSTRAP_KEY_ID) return this.adminDigest !== null;
    const record = await this.keys.get(keyId);
    return !!record && record.revokedAt === null && record.admin;
  }
}

/**
 * Browser sessions for the queue dashboard, whose UI cannot send a Bearer header. The cookie holds a random token;
 * Redis holds SHA-256(token) → key id, so the API key itself never sits in the browser, and a session dies with its
 * key (checked on every request).
 */
export class AdminSessions {
  static readonly TTL_SECONDS = 8 * 3600;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async create(keyId: string): Promise<string> {
    const token = randomBase62(40);
    await this.redis.set(this.keys.adminSession(hashSecret(token)), keyId, 'EX', AdminSessions.TTL_SECONDS);
    return token;
  }

  async keyIdOf(token: string | null): Promise<string | null> {
    if (!token || !/^[0-9A-Za-z]{40}$/.test(token)) return null;
    return this.redis.get(this.keys.adminSession(hashSecret(token)));
  }

  async delete(token: string | null): Promise<void> {
    if (token) await this.redis.del(this.keys.adminSession(hashSecret(token)));
  }
}

export function sessionCookie(request: FastifyRequest, token: string, maxAge: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${ADMIN_COOKIE}=${token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

export const sessionToken = (request: FastifyRequest) => cookie(request, ADMIN_COOKIE);

function unauthorized(reply: FastifyReply, message?: string): ApiError {
  reply.header('www-authenticate', 'Bearer realm="autolab"');
  return new ApiError('unauthorized', message);
}

/** The caller of a `/v1` route (always set there by the auth plugin). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('unauthorized');
  return request.principal;
}

async function authenticate(
  request: FastifyRequest,
  reply: FastifyReply,
  options: AuthOptions & { resolver: KeyResolver },
): Promise<void> {
  const area = areaOf(request.url);
  if (area === 'public' || area === 'admin-login') return;
  if (!options.enabled) {
    request.principal = ANONYMOUS;
    return;
  }
  let principal = await options.resolver.resolve(bearerToken(request));
  if (!principal && area === 'admin-ui') {
    const keyId = await options.sessions.keyIdOf(sessionToken(request));
    if (keyId && (await options.resolver.stillAdmin(keyId))) principal = { keyId, tenant: 'default', admin: true };
  }
  if (!principal) {
    // Requests without a valid key share one budget per client address, so guessing keys or flooding the key
    // lookup is limited like any key's traffic.
    if (options.limiter) await enforceLimit(reply, options.limiter, `unauthenticated:${request.ip}`);
    throw unauthorized(
      reply,
      request.headers.authorization ? 'This API key is not valid (unknown, revoked or malformed).' : undefined,
    );
  }
  request.principal = principal;
  // The queue dashboard is not advertised: a non-admin key gets the same answer as a path that does not exist.
  if (area === 'admin-ui' && !principal.admin) {
    throw new ApiError('route_not_found', `There is no route ${request.method} ${request.url.split('?')[0]}.`);
  }
  const path = request.url.split('?')[0] ?? '';
  if ((path === '/v1/admin' || path.startsWith('/v1/admin/')) && !principal.admin) throw new ApiError('forbidden');
  if (area === 'api' && options.limiter) await enforceLimit(reply, options.limiter, principal.keyId);
}

/** Counts one request against `bucket`; over the limit → 429 `rate_limited` with `Retry-After`. */
async function enforceLimit(reply: FastifyReply, limiter: RateLimiter, bucket: string): Promise<void> {
  const { allowed, retryAfterMs } = await limiter.hit(bucket);
  if (allowed) return;
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  reply.header('retry-after', String(seconds));
  throw new ApiError('rate_limited', undefined, { limitPerMinute: limiter.perMinute, retryAfterSeconds: seconds });
}

/**
 * Authentication, authorization of the admin areas and the per-key rate limit, for the whole app (not
 * encapsulated). Runs in onRequest, before any body is read.
 */
export const authPlugin = fp<AuthOptions & { resolver: KeyResolver }>(
  async (app, options) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request, reply) => {
      try {
        await authenticate(request, reply, options);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        // Answered here rather than thrown: routes of plugins with their own error handler (bull-board) must give
        // the same error shape.
        return reply.status(err.status).send({ error: { code: err.code, message: err.message, details: err.details } });
      }
    });
  },
  { name: 'autolab-auth', fastify: '5.x' },
);
