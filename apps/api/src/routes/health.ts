import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS } from '../auth.js';

const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  redis: z.boolean(),
  docker: z.boolean().describe('As last reported by a worker (only workers talk to the Docker engine).'),
  workers: z.array(z.object({ workerId: z.string(), seenAt: z.string(), activeRuns: z.array(z.string()) })),
});

export const healthRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/healthz',
      {
        config: { access: ACCESS.public },
        schema: {
          tags: ['operations'],
          operationId: 'getHealth',
          summary: 'Redis reachable, a worker alive, and its Docker engine reachable',
          response: { 200: Health, 503: Health },
        },
      },
      async (_request, reply) => {
        const redis = await deps.redis.ping().then(
          (r) => r === 'PONG',
          () => false,
        );
        const workers = redis ? await deps.workers.list().catch(() => []) : [];
        const docker = workers.some((w) => w.dockerOk);
        const ok = redis && workers.length > 0 && docker;
        return reply.status(ok ? 200 : 503).send({
          status: ok ? 'ok' : 'degraded',
          redis,
          docker,
          workers: workers.map((w) => ({ workerId: w.workerId, seenAt: w.seenAt, activeRuns: w.activeRuns })),
        });
      },
    );
  };
