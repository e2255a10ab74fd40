import { CreateRunRequest, ErrorBody, RunList, RunRecord } from '@autolab/contracts';
import { enqueueRun, IdempotencyConflictError } from '@autolab/store';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ApiError } from '../errors.js';
import { loadRun, toRunRecord } from '../run-view.js';

const RunParams = z.object({ id: z.string().max(100) });
const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,200}$/, 'use 1-200 letters, digits and . _ : -')
    .optional()
    .describe('Retrying a POST with the same key returns the run created by the first one.'),
});
const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };

export const runRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/runs',
      {
        schema: {
          tags: ['runs'],
          summary: 'Submit a research goal',
          description: 'Queues a run and answers at once with its id; watch it with the events link.',
          body: CreateRunRequest,
          headers: IdempotencyHeaders,
          response: { 202: RunRecord, ...errors },
        },
      },
      async (request, reply) => {
        const options = { ...request.body, model: request.body.model ?? deps.defaultModel, tenant: 'default' };
        try {
          const { run, created } = await deps.runs.create(options, request.headers['idempotency-key']);
          // Also for a repeated request: if the first one stored the run but failed to enqueue it, this heals it
          // (adding a job whose id exists is a no-op in BullMQ).
          if (created || run.status === 'queued') await enqueueRun(deps.queue, run.id);
          reply.header('location', `/v1/runs/${run.id}`);
          return reply.status(202).send(toRunRecord(run));
        } catch (err) {
          if (err instanceof IdempotencyConflictError) {
            throw new ApiError('idempotency_conflict', undefined, { runId: err.runId });
          }
          throw err;
        }
      },
    );

    app.get(
      '/v1/runs',
      {
        schema: {
          tags: ['runs'],
          summary: 'List runs, newest first',
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(100).default(20),
            cursor: z
              .string()
              .regex(/^run_[0-9a-z]{26}$/, 'not a cursor from a previous page')
              .optional(),
          }),
          response: { 200: RunList, 400: ErrorBody },
        },
      },
      async (request) => {
        const page = await deps.runs.list(request.query.limit, request.query.cursor);
        return { runs: page.runs.map(toRunRecord), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/runs/:id',
      {
        schema: {
          tags: ['runs'],
          summary: 'One run: status, stage, iteration, best metric, cost, timestamps, error',
          params: RunParams,
          response: { 200: RunRecord, 404: ErrorBody },
        },
      },
      async (request) => toRunRecord(await loadRun(deps.runs, request.params.id)),
    );

    app.post(
      '/v1/runs/:id/cancel',
      {
        schema: {
          tags: ['runs'],
          summary: 'Cancel a run',
          description:
            'A queued run is cancelled at once. A running run is stopped within seconds (its sandbox is killed); ' +
            'the run.finished event with status cancelled confirms it.',
          params: RunParams,
          response: { 202: RunRecord, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        const run = await loadRun(deps.runs, id);
        if (run.status === 'cancelled') return reply.status(202).send(toRunRecord(run));
        if (run.status === 'succeeded' || run.status === 'failed') {
          throw new ApiError('run_already_finished', `The run has already ${run.status}.`);
        }
        const cancelledWhileQueued = await deps.runs.transition(
          id,
          ['queued'],
          'cancelled',
          { finishedAt: new Date().toISOString(), error: 'null' },
          {
            type: 'run.finished',
            message: 'Run cancelled before it started.',
            data: { status: 'cancelled', error: null, usage: run.usage },
          },
        );
        if (cancelledWhileQueued) {
          await deps.queue.remove(id).catch(() => undefined);
        } else {
          await deps.cancel.request(id);
          // Only while it is running: a run that finished meanwhile keeps run.finished as its last event.
          await deps.runs.transition(
            id,
            ['running'],
            null,
            {},
            {
              type: 'run.cancel_requested',
              message: 'Cancel requested; stopping the run.',
              data: {},
            },
          );
        }
        return reply.status(202).send(toRunRecord(await loadRun(deps.runs, id)));
      },
    );
  };
