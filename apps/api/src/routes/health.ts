import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS } from '../auth.js';
import { reuseRecent } from '../recent-value.js';

/**
 * How long `/healthz` answers from what it last read of the workers (docs/operations.md): a load balancer or monitor
 * polling it many times a second costs Redis one read a second, and what it says is at most this old.
 */
export const HEALTH_REUSE_MS = 1000;

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
    const listWorkers = reuseRecent(() => deps.workers.list(), HEALTH_REUSE_MS);
    app.get(
      '/healthz',
      {
        config: { access: ACCESS.public },
        schema: {
          tags: ['operations'],
          operationId: 'getHealth',
          summary: 'Redis reachable, a worker alive, and its Docker engine reachable',
          description:
            '200 when all are; otherwise 503 naming in `down` what is missing. What it says of the workers may be ' +
            'up to 1 s old (a successful read is reused for a second).',
          response: { 200: Health, 503: Health },
        },
      },
      async (_request, reply) => {
        // The request client fails fast while Redis is away and gives up on a silent one after the command timeout,
        // so this answers within a few seconds whatever Redis does. Reading the worker list is the Redis check (a failed
        // read is never reused: while Redis is away every call tries again).
        const listed = await listWorkers().catch(() => null);
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
