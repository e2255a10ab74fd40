import { createHash, timingSafeEqual } from 'node:crypto';
import { API_KEY_PATTERN, hasScope, type Principal, SCOPES, type Scope } from '@autolab/contracts';
import { type ApiKeyStore, hashSecret, isUsable, type RedisKeys, randomBase62 } from '@autolab/store';
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
import type { RequestLimit } from './rate-limit.js';

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
  /**
   * The rate limit (apps/api/src/rate-limit.ts) for requests no route's own limit hook sees: paths that reach no
   * route; null = no limit.
   */
  unroutedLimit: RequestLimit | null;
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
    // One hash per request: compared with the admin key's, then looked up (the store keys by the same SHA-256).
    const digest = sha256(secret);
    if (this.adminDigest && timingSafeEqual(digest, this.adminDigest)) {
      return { keyId: BOOTSTRAP_KEY_ID, tenant: 'default', admin: true, scopes: [...SCOPES] };
    }
    if (!API_KEY_PATTERN.test(secret)) return null;
    const record = await this.keys.verifyHash(digest.toString('hex'));
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
 * Counts a refused attempt against the caller's address (`limit`: for routes whose own limit hook does not count
 * it, such as a public login page) and answers 401. Requests without a valid key share one budget per client
 * address, so guessing keys or flooding the key lookup is limited like any key's traffic.
 */
export async function refuseUnauthenticated(
  request: FastifyRequest,
  reply: FastifyReply,
  limit: RequestLimit | null,
  message?: string,
): Promise<never> {
  if (limit) await limit(request, reply);
  throw unauthorized(reply, message);
}

/**
 * First step, `onRequest` (app-wide, so before the route-level rate-limit hook): who is calling. Sets
 * `request.principal` from a Bearer key or an admin browser session; refuses nothing yet, so that the rate limit
 * can count a bad key against its address before the 401.
 */
async function identify(request: FastifyRequest, options: AuthOptions): Promise<void> {
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
  request.principal = principal;
}

/**
 * Second step, `preParsing` (after the route's rate-limit hook, before any body is read): 401 without a valid key,
 * 403 without the route's scope. A path that reached no route declares nothing: it needs a valid key like
 * everything that is not public (so unknown paths are not an oracle and nothing is open by omission), and is
 * counted here because no route hook counted it.
 */
async function authorize(request: FastifyRequest, reply: FastifyReply, options: AuthOptions): Promise<void> {
  const access = request.routeOptions.config.access;
  if (access?.auth === 'public' || !options.enabled) return;
  const principal = request.principal;
  if (!principal) {
    await refuseUnauthenticated(
      request,
      reply,
      access ? null : options.unroutedLimit,
      request.headers.authorization ? 'This API key is not valid (unknown, revoked, expired or malformed).' : undefined,
    );
    return;
  }
  if (!access) {
    if (options.unroutedLimit) await options.unroutedLimit(request, reply);
    return;
  }
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
 * Authentication and scopes for the whole app (not encapsulated), after routing and before any body is read: the
 * caller is identified in `onRequest`, the route's rate limit (apps/api/src/rate-limit.ts, a route-level
 * `onRequest` hook) counts it, and 401/403 are decided in `preParsing`. Register it before any route, so that its `onRoute` hook sees them all: a route that
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
    // Answered here rather than thrown: routes of plugins with their own error handler (bull-board) must give the
    // same error shape.
    const answerRefusal = (reply: FastifyReply, err: Error) => {
      const answer = errorAnswer(err);
      if (!(err instanceof ApiError) && answer.code !== 'unavailable') throw err;
      return reply
        .status(answer.status)
        .headers(answer.headers ?? {})
        .send(errorBody(answer));
    };
    app.addHook('onRequest', async (request, reply) => {
      try {
        await identify(request, options);
      } catch (err) {
        return answerRefusal(reply, err as Error);
      }
    });
    // Callback style: an async preParsing hook's return value is taken as the body stream, and after a refusal
    // the lifecycle must simply stop (`done` is not called) while the answer is sent.
    app.addHook('preParsing', (request, reply, payload, done) => {
      authorize(request, reply, options).then(
        () => done(null, payload),
        (err: Error) => {
          try {
            answerRefusal(reply, err);
          } catch (unexpected) {
            done(unexpected as Error);
          }
        },
      );
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
