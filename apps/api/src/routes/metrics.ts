import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS } from '../auth.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/**
 * `GET /metrics`, admin only, in Prometheus' text format (prom-client): this API process's requests (latency by route
 * and status), the run queue (jobs by state, the oldest waiting job's age) and the workers (alive, live runs), read
 * from Redis at each scrape. Each worker serves its own (model calls, experiments, runs) on
 * AUTOLAB_WORKER_METRICS_PORT; docs/operations.md lists them with example alerts.
 */
export const metricsRoutes = (deps: ApiDeps): FastifyPluginAsyncZod =>
  // Not encapsulated: the request hook below must see every route of the app.
  fp(async (app) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'autolab_api_' });
    const requestSeconds = new Histogram({
      name: 'autolab_api_request_seconds',
      help: 'HTTP requests this API process answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
    new Gauge({
      name: 'autolab_queue_jobs',
      help: 'Run jobs in the queue, by state.',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        const counts = await deps.queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'autolab_queue_oldest_waiting_seconds',
      help: 'How long the oldest waiting run job has waited (0 when none waits).',
      registers: [registry],
      async collect() {
        const [oldest] = await deps.queue.getJobs(['waiting', 'prioritized'], 0, 0, true);
        this.set(oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
      },
    });
    const liveRuns = new Gauge({
      name: 'autolab_worker_live_runs_reported',
      help: 'Runs each live worker reported running in its last heartbeat.',
      labelNames: ['worker'],
      registers: [registry],
    });
    new Gauge({
      name: 'autolab_workers',
      help: 'Workers alive (heartbeat seen), and how many of them report a reachable Docker engine.',
      labelNames: ['docker'],
      registers: [registry],
      async collect() {
        const workers = await deps.workers.list();
        this.set({ docker: 'ok' }, workers.filter((w) => w.dockerOk).length);
        this.set({ docker: 'down' }, workers.filter((w) => !w.dockerOk).length);
        liveRuns.reset();
        for (const w of workers) liveRuns.set({ worker: w.workerId }, w.activeRuns.length);
      },
    });

    // Every request of this app, also those refused before a route ran (the route label is then the pattern or '').
    app.addHook('onResponse', async (request, reply) => {
      requestSeconds.observe(
        { method: request.method, route: request.routeOptions.url ?? '', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });

    app.get(
      '/metrics',
      {
        config: { access: ACCESS.admin },
        schema: {
          tags: ['operations'],
          operationId: 'getMetrics',
          summary: 'Prometheus metrics of this API process, the run queue and the workers (admin)',
          description:
            'Text exposition format 0.0.4. Workers serve their own (model calls, experiments, runs) on AUTOLAB_WORKER_METRICS_PORT.',
          response: { 200: z.string() },
        },
      },
      async (_request, reply) => {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      },
    );
  });
