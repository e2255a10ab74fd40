import { ErrorBody } from '@autolab/contracts';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import {
  ACCESS,
  ADMIN_LOGIN_PATH,
  ADMIN_LOGOUT_PATH,
  ADMIN_UI_PREFIX,
  AdminSessions,
  type KeyResolver,
  refuseUnauthenticated,
  sessionCookie,
  sessionToken,
  withAccess,
} from '../auth.js';
import { errorAnswer, errorBody } from '../error-responses.js';
import { ApiError } from '../errors.js';
import type { RequestLimit } from '../rate-limit.js';

/**
 * The queue dashboard (bull-board) at /admin/queues, for admins only: every route bull-board registers gets the
 * `adminUi` access rule. Browsers cannot send a Bearer header to it, so `GET /admin/queues/login?key=<admin key>`
 * (public: it checks the key itself, rate-limited like any refused request) opens a session (HttpOnly,
 * SameSite=Strict cookie scoped to /admin) and redirects to the dashboard.
 */
export const queueDashboardRoutes =
  (deps: ApiDeps, resolver: KeyResolver, refusalLimit: RequestLimit | null): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      ADMIN_LOGIN_PATH,
      {
        // Not counted by the route's limit hook (public): only refused attempts count, below.
        config: { access: ACCESS.public, rateLimit: false },
        schema: {
          hide: true,
          querystring: z.object({ key: z.string().max(200).optional() }),
          response: { 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
        if (!deps.authEnabled) return reply.redirect(ADMIN_UI_PREFIX, 303);
        const principal = await resolver.resolve(request.query.key ?? null);
        if (!principal)
          return refuseUnauthenticated(request, reply, refusalLimit, 'Open this page with ?key=<an admin API key>.');
        if (!principal.admin) throw new ApiError('route_not_found', `There is no route GET ${ADMIN_LOGIN_PATH}.`);
        const token = await deps.sessions.create(principal.keyId);
        reply.header('set-cookie', sessionCookie(request, token, AdminSessions.TTL_SECONDS));
        return reply.redirect(ADMIN_UI_PREFIX, 303);
      },
    );

    // Public: ending a session needs no rights, and an expired session must still be able to clear its cookie.
    app.get(
      ADMIN_LOGOUT_PATH,
      { schema: { hide: true }, config: { access: ACCESS.public } },
      async (request, reply) => {
        await deps.sessions.delete(sessionToken(request));
        reply.header('set-cookie', sessionCookie(request, '', 0)).header('cache-control', 'no-store');
        return reply.status(204).send();
      },
    );

    await app.register(withAccess(ACCESS.adminUi, bullBoard(deps)), { prefix: ADMIN_UI_PREFIX });
  };

function bullBoard(deps: ApiDeps) {
  return async (app: FastifyInstance) => {
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(ADMIN_UI_PREFIX);
    createBullBoard({
      queues: [new BullMQAdapter(deps.queue, { readOnlyMode: false })],
      serverAdapter,
      options: { uiConfig: { boardTitle: 'Autolab queue' } },
    });
    // Errors thrown on its routes (the rate limit's 429, Redis's 503) get the API's one error shape, not bull-board's.
    serverAdapter.setErrorHandler((error) => {
      const answer = errorAnswer(error);
      // Its type lists fewer statuses than its Fastify adapter passes on (it sends any status it is given).
      return { status: answer.status as 500, body: errorBody(answer) };
    });
    // bull-board's routes declare no schemas; they must not go through the zod compilers of the API routes.
    app.setValidatorCompiler(() => (value) => ({ value }));
    app.setSerializerCompiler(() => (data) => JSON.stringify(data));
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', 'no-store');
      return payload;
    });
    await app.register(serverAdapter.registerPlugin());
  };
}
