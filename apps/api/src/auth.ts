import { createHash, timingSafeEqual } from 'node:crypto';
import { API_KEY_PATTERN, hasScope, type Principal, SCOPES, type Scope } from '@autolab/contracts';
import { type ApiKeyStore, hashSecret, isUsable, type RateLimiter, type RedisKeys, randomBase62 } from '@autolab/store';
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyPluginCallback,
  FastifyPluginOptions,
  FastifyReply,
  FastifyRequest,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { errorAnswer, errorBody } from './error-responses.js';
import { ApiError } from './errors.js';

/**
 * Who may call a route, declared by the route itself (`config: { access }`) and checked after routing, on the route
 * the router chose. Nothing is decided from the URL string: an encoded, double-encoded or differently spelled path
 * either reaches a route (and that route's rule applies) or reaches none (and the default applies).
 */
export type RouteAccess =
  /** Anyone: health, the API description, the dashboard's page (it holds no data). */
  | { auth: 'public' }
  /** A key of a tenant with this scope; the route shows only the key's tenant's data (admin keys: all). */
  | { auth: 'tenant'; scope: Exclude<Scope, 'admin'> }
  /** An admin key. `browserSession`: the queue dashboard, whose pages a browser opens with a session cookie. */
  | { auth: 'admin'; browserSession?: boolean };

export const ACCESS = {
  public: { auth: 'public' },
  read: { auth: 'tenant', scope: 'runs:read' },
  write: { auth: 'tenant', scope: 'runs:write' },
  admin: { auth: 'admin' },
  adminUi: { auth: 'admin', browserSession: true },
} as const satisfies Record<string, RouteAccess>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every route declares it; a route without one fails the app at start-up. */
    access?: RouteAccess;
    /** The body's media type when it is not JSON (for the 415 message and the OpenAPI document). */
    accepts?: 'multipart/form-data';
  }
  interface FastifyRequest {
    /** Who is calling. Set on every request that needed a key; null on public routes. */
    principal: Principal | null;
  }
}

export interface AuthOptions {
  /** false: no keys; every request is tenant `default` with admin rights (loopback only, see env.ts). */
  enabled: boolean;
  sessions: AdminSessions;
  /** Per-key limit on authenticated requests, and per-address limit on refused ones; null = none. */
  limiter: RateLimiter | null;
  resolver: KeyResolver;
}

/** The queue dashboard (bull-board) lives here; it is for admins only. */
export const ADMIN_UI_PREFIX = '/admin/queues';
export const ADMIN_LOGIN_PATH = `${ADMIN_UI_PREFIX}/login`;
export const ADMIN_LOGOUT_PATH = `${ADMIN_UI_PREFIX}/logout`;
export const ADMIN_COOKIE = 'autolab_admin';

const BOOTSTRAP_KEY_ID = 'admin-env';
const ANONYMOUS: Principal = Object.freeze({
  keyId: 'anonymous',
  tenant: 'default',
  admin: true,
  scopes: Object.freeze([...SCOPES]),
});

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
 * its SHA-256; revoked and expired keys resolve to nothing). Strings that cannot be keys never reach Redis.
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
      return { keyId: BOOTSTRAP_KEY_ID, tenant: 'default', admin: true, scopes: [...SCOPES] };
    }
    if (!API_KEY_PATTERN.test(secret)) return null;
    const record = await this.keys.verify(secret);
    return record ? { keyId: record.id, tenant: record.tenant, admin: record.admin, scopes: record.scopes } : null;
  }

  /** Whether the key behind a session is still usable (not revoked, not expired) and still an admin key. */
  async stillAdmin(keyId: string): Promise<boolean> {
    if (keyId === BOOTSTRAP_KEY_ID) return this.adminDigest !== null;
    const record = await this.keys.get(keyId);
    return !!record && isUsable(record) && record.admin;
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

/** The caller of a route that needs a key (always set there by the auth plugin). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('unauthorized');
  return request.principal;
}

const routeNotFound = (request: FastifyRequest) =>
  new ApiError('route_not_found', `There is no route ${request.method} ${request.url.split('?')[0]}.`);

/**
 * Counts a refused attempt against the caller's address and answers 401. Requests without a valid key share one
 * budget per client address, so guessing keys or flooding the key lookup is limited like any key's traffic.
 */
export async function refuseUnauthenticated(
  request: FastifyRequest,
  reply: FastifyReply,
  limiter: RateLimiter | null,
  message?: string,
): Promise<never> {
  if (limiter) await enforceLimit(reply, limiter, `unauthenticated:${request.ip}`);
  throw unauthorized(reply, message);
}

async function authorize(request: FastifyRequest, reply: FastifyReply, options: AuthOptions): Promise<void> {
  // A path no route matched (a 404) declares nothing: it needs a valid key like everything that is not public,
  // so unknown paths are not an oracle and nothing is open by omission.
  const access = request.routeOptions.config.access;
  if (access?.auth === 'public') return;
  if (!options.enabled) {
    request.principal = ANONYMOUS;
    return;
  }
  let principal = await options.resolver.resolve(bearerToken(request));
  if (!principal && access?.auth === 'admin' && access.browserSession) {
    const keyId = await options.sessions.keyIdOf(sessionToken(request));
    if (keyId && (await options.resolver.stillAdmin(keyId)))
      principal = { keyId, tenant: 'default', admin: true, scopes: [...SCOPES] };
  }
  if (!principal) {
    await refuseUnauthenticated(
      request,
      reply,
      options.limiter,
      request.headers.authorization ? 'This API key is not valid (unknown, revoked, expired or malformed).' : undefined,
    );
    return;
  }
  request.principal = principal;
  if (options.limiter) await enforceLimit(reply, options.limiter, principal.keyId);
  if (!access) return;
  if (access.auth === 'admin' && !principal.admin) {
    // The queue dashboard is not advertised: a non-admin key gets the same answer as a path that does not exist.
    if (access.browserSession) throw routeNotFound(request);
    throw missingScope(reply, principal, 'admin');
  }
  if (access.auth === 'tenant' && !hasScope(principal.scopes, access.scope)) {
    throw missingScope(reply, principal, access.scope);
  }
}

function missingScope(reply: FastifyReply, principal: Principal, scope: Scope): ApiError {
  reply.header('www-authenticate', `Bearer realm="autolab", error="insufficient_scope", scope="${scope}"`);
  return new ApiError(
    'forbidden',
    `This API key lacks the scope ${scope} (it has ${principal.scopes.join(', ') || 'none'}).`,
    { requiredScope: scope, scopes: principal.scopes },
  );
}

/** Counts one request against `bucket`; over the limit → 429 `rate_limited` with `Retry-After`. */
async function enforceLimit(reply: FastifyReply, limiter: RateLimiter, bucket: string): Promise<void> {
  const { allowed, retryAfterMs } = await limiter.hit(bucket);
  if (allowed) return;
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  reply.header('retry-after', String(seconds));
  throw new ApiError('rate_limited', undefined, { limitPerMinute: limiter.perMinute, retryAfterSeconds: seconds });
}

/** One row of the route table: what each registered route declares. */
export interface RouteAccessEntry {
  method: string;
  url: string;
  access: RouteAccess | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route with the access it declares (null: none, which fails `ready()`). */
    routeAccessTable(): RouteAccessEntry[];
  }
}

/**
 * Authentication, scopes and the rate limit for the whole app (not encapsulated), in `onRequest`: after routing,
 * before any body is read. Register it before any route, so that its `onRoute` hook sees them all: a route that
 * declares no access makes `ready()` fail, naming it.
 */
export const authPlugin = fp<AuthOptions>(
  async (app, options) => {
    const routes: RouteOptions[] = [];
    app.decorateRequest('principal', null);
    app.addHook('onRoute', (route) => {
      routes.push(route);
    });
    app.decorate('routeAccessTable', () =>
      routes.flatMap((route) =>
        (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({
          method,
          url: route.url,
          access: route.config?.access ?? null,
        })),
      ),
    );
    app.addHook('onReady', async () => {
      const undeclared = app.routeAccessTable().filter((r) => r.access === null);
      if (undeclared.length > 0) {
        throw new Error(
          `routes without an access rule (config.access): ${undeclared.map((r) => `${r.method} ${r.url}`).join(', ')}`,
        );
      }
    });
    app.addHook('onRequest', async (request, reply) => {
      try {
        await authorize(request, reply, options);
      } catch (err) {
        const answer = errorAnswer(err as Error);
        if (!(err instanceof ApiError) && answer.code !== 'unavailable') throw err;
        // Answered here rather than thrown: routes of plugins with their own error handler (bull-board) must give
        // the same error shape.
        return reply
          .status(answer.status)
          .headers(answer.headers ?? {})
          .send(errorBody(answer));
      }
    });
  },
  { name: 'autolab-auth', fastify: '5.x' },
);

/**
 * Registers a plugin whose routes we do not write (the API description's UI, static files, bull-board) with one
 * access rule for all of them; a route of theirs that declares its own rule keeps it.
 */
export function withAccess<Options extends FastifyPluginOptions>(
  access: RouteAccess,
  plugin: FastifyPluginAsync<Options> | FastifyPluginCallback<Options>,
  options?: Options,
): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: route.config?.access ?? access };
    });
    await app.register(plugin, options ?? ({} as Options));
  };
}
