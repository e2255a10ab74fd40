import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS } from '../auth.js';

const Dependency = z.enum(['redis', 'workers', 'docker']);

const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  down: z
    .array(Dependency)
    .describe(
      'What is missing: `redis` (this API cannot reach it; nothing else can then be checked), `workers` (no ' +
        'worker has sent a heartbeat lately), `docker` (no worker reports its Docker engine reachable).',
    ),
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
          description: '200 when all are; otherwise 503 naming in `down` what is missing.',
          response: { 200: Health, 503: Health },
        },
      },
      async (_request, reply) => {
        // The request client fails fast while Redis is away and gives up on a silent one after the command timeout,
        // so this answers within a few seconds whatever Redis does. Reading the worker list is the Redis check.
        const listed = await deps.workers.list().catch(() => null);
        const redis = listed !== null;
        const workers = listed ?? [];
        const docker = workers.some((w) => w.dockerOk);
        const down: z.infer<typeof Dependency>[] = !redis
          ? ['redis']
          : [...(workers.length === 0 ? (['workers'] as const) : []), ...(docker ? [] : (['docker'] as const))];
        return reply.status(down.length === 0 ? 200 : 503).send({
          status: down.length === 0 ? 'ok' : 'degraded',
          down,
          redis,
          docker,
          workers: workers.map((w) => ({ workerId: w.workerId, seenAt: w.seenAt, activeRuns: w.activeRuns })),
        });
      },
    );
  };
