import { ErrorBody } from '@autolab/contracts';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import {
  ADMIN_LOGIN_PATH,
  ADMIN_LOGOUT_PATH,
  ADMIN_UI_PREFIX,
  AdminSessions,
  type KeyResolver,
  sessionCookie,
  sessionToken,
} from '../auth.js';
import { ApiError } from '../errors.js';

/**
 * The queue dashboard (bull-board) at /admin/queues, for admins only; the auth plugin guards every path under it.
 * Browsers cannot send a Bearer header to it, so `GET /admin/queues/login?key=<admin key>` opens a session
 * (HttpOnly, SameSite=Strict cookie scoped to /admin) and redirects to the dashboard.
 */
export const queueDashboardRoutes =
  (deps: ApiDeps, resolver: KeyResolver): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      ADMIN_LOGIN_PATH,
      {
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
        if (!principal) {
          reply.header('www-authenticate', 'Bearer realm="autolab"');
          throw new ApiError('unauthorized', 'Open this page with ?key=<an admin API key>.');
        }
        if (!principal.admin) throw new ApiError('route_not_found', `There is no route GET ${ADMIN_LOGIN_PATH}.`);
        const token = await deps.sessions.create(principal.keyId);
        reply.header('set-cookie', sessionCookie(request, token, AdminSessions.TTL_SECONDS));
        return reply.redirect(ADMIN_UI_PREFIX, 303);
      },
    );

    app.get(ADMIN_LOGOUT_PATH, { schema: { hide: true } }, async (request, reply) => {
      await deps.sessions.delete(sessionToken(request));
      reply.header('set-cookie', sessionCookie(request, '', 0)).header('cache-control', 'no-store');
      return reply.status(204).send();
    });

    await app.register(bullBoard(deps), { prefix: ADMIN_UI_PREFIX });
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
