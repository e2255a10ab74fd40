import {
  answersFileCount,
  CreateRunRequest,
  DEFAULT_EVOLVE_GOAL,
  ErrorBody,
  EvolvePolicy,
  evaluatorEntryPoint,
  evolveProgramEntry,
  graderEntryPoint,
  modelsOf,
  priceOf,
  RerunRequest,
  type RunInputs,
  RunList,
  RunRecord,
  resolveRunModels,
  runUploads,
} from '@autolab/contracts';
import { TUNABLE_FIELDS, type TunableField, tuneSearch } from '@autolab/lessons';
import { enqueueRerun, enqueueRun, IdempotencyConflictError, TooManyActiveRunsError } from '@autolab/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS, principalOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { RunConflict, RunNotFound, RunParams } from '../route-schemas.js';
import { cachedRunFor, loadRun, RunRecordCache, readRunEarly, runNotFound, toRunRecord } from '../run-view.js';

const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,200}$/, 'use 1-200 letters, digits and . _ : -')
    .optional()
    .describe('Retrying a POST with the same key returns the run created by the first one (keys are per tenant).'),
});
const createErrors = {
  400: ErrorBody,
  409: ErrorBody.describe('`idempotency_conflict`: this Idempotency-Key was used with a different body.'),
};

/** Seconds a client over the live-run cap should wait before trying again (runs take minutes). */
const ACTIVE_RUNS_RETRY_AFTER_SECONDS = 30;

function tooManyActiveRuns(reply: FastifyReply, tenant: string, active: number, max: number): ApiError {
  reply.header('retry-after', String(ACTIVE_RUNS_RETRY_AFTER_SECONDS));
  return new ApiError(
    'too_many_active_runs',
    `Tenant ${tenant} already has ${active} queued or running runs (at most ${max}); retry when one has finished.`,
    { tenant, active, max },
  );
}

/**
 * The search fields a request left out, read from its body before the schema fills in defaults: the tenant's
 * statistics may set those (docs/lessons.md), never one the request gave.
 */
const openSearchFields = new WeakMap<FastifyRequest, TunableField[]>();

function recordOpenSearchFields(request: FastifyRequest): void {
  const body = request.body as { search?: unknown } | null;
  const search = body && typeof body === 'object' && body.search && typeof body.search === 'object' ? body.search : {};
  openSearchFields.set(
    request,
    TUNABLE_FIELDS.filter((field) => !(field in search)),
  );
}

export const runRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const cache = new RunRecordCache(deps.redis, deps.runs);
    app.addHook('onClose', () => cache.close());

    app.post(
      '/v1/runs',
      {
        preValidation: async (request) => recordOpenSearchFields(request),
        config: { access: ACCESS.write },
        schema: {
          tags: ['runs'],
          operationId: 'createRun',
          summary: 'Submit a research goal',
          description:
            'Queues a run for the caller’s tenant and answers at once with its id; watch it with the events link. ' +
            'A tenant may have AUTOLAB_TENANT_MAX_ACTIVE_RUNS queued + running runs (429 `too_many_active_runs`).',
          body: CreateRunRequest,
          headers: IdempotencyHeaders,
          response: { 202: RunRecord, ...createErrors },
        },
      },
      async (request, reply) => {
        const { tenant } = principalOf(request);
        checkImage(deps, request.body.sandbox.image);
        await checkInputs(deps, request.body, tenant);
        const template = request.body.inputs.template ? deps.templates.get(request.body.inputs.template) : null;
        const evolving = request.body.mode === 'evolve';
        // The schema lets the goal be left out only with a template, or in evolve mode.
        const goal = request.body.goal ?? (evolving ? DEFAULT_EVOLVE_GOAL : template!.template.goal);
        const { model, models: requestedModels, budgetUsd: requestedBudget, ...rest } = request.body;
        const models = resolveRunModels(requestedModels, model, deps.models);
        const evolve = evolving ? EvolvePolicy.parse(request.body.evolve ?? {}) : undefined;
        const budgetUsd = runBudget(deps, [...modelsOf(models), ...(evolve?.models ?? [])], requestedBudget);
        const options = { ...rest, evolve, goal, models, budgetUsd, tenant };
        const open = openSearchFields.get(request) ?? [];
        const tuned = open.length > 0 ? tuneSearch(rest.search, open, await deps.searchStats.counts(tenant)) : null;
        try {
          const { run, created } = await deps.runs.create(
            options,
            request.headers['idempotency-key'],
            { maxActiveRuns: deps.tenantMaxActiveRuns },
            tuned,
          );
          // Also for a repeated request: if the first one stored the run but failed to enqueue it, this heals it
          // (adding a job whose id exists is a no-op in BullMQ). A rerun has its own job, queued by its route.
          if (created || (run.status === 'queued' && (await deps.runs.jobId(run.id)) === run.id))
            await enqueueRun(deps.queue, run.id);
          reply.header('location', `/v1/runs/${run.id}`);
          return reply.status(202).send(toRunRecord(run));
        } catch (err) {
          if (err instanceof IdempotencyConflictError) {
            throw new ApiError('idempotency_conflict', undefined, { runId: err.runId });
          }
          if (err instanceof TooManyActiveRunsError) throw tooManyActiveRuns(reply, tenant, err.active, err.max);
          throw err;
        }
      },
    );

    app.get(
      '/v1/runs',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['runs'],
          operationId: 'listRuns',
          summary: 'List runs, newest first',
          description: 'The caller’s tenant’s runs; with an admin key, every tenant’s.',
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
        const principal = principalOf(request);
        const page = await deps.runs.list(
          request.query.limit,
          request.query.cursor,
          principal.admin ? undefined : principal.tenant,
        );
        return { runs: page.runs.map(toRunRecord), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/runs/:id',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['runs'],
          operationId: 'getRun',
          summary: 'One run: status, stage, iteration, best metric, cost, timestamps, error',
          params: RunParams,
          response: { 200: RunRecord, 404: RunNotFound },
        },
        // Before the rate limit's own route hook (the plugin appends it): the run read and the limit overlap.
        onRequest: readRunEarly(cache),
      },
      async (request, reply) => {
        const cached = await cachedRunFor(cache, request, request.params.id, principalOf(request));
        // The route's own serializer, once per version of the record.
        cached.body ??= reply.serialize(toRunRecord(cached.run)) as string;
        // A string with a JSON type is sent as it is (the type provider only knows the unserialized shape).
        return reply.type('application/json; charset=utf-8').send(cached.body as never);
      },
    );

    app.post(
      '/v1/runs/:id/cancel',
      {
        config: { access: ACCESS.write },
        schema: {
          tags: ['runs'],
          operationId: 'cancelRun',
          summary: 'Cancel a run',
          description:
            'A queued run is cancelled at once. A running run is stopped within seconds (its sandbox is killed); ' +
            'the run.finished event with status cancelled confirms it.',
          params: RunParams,
          response: { 202: RunRecord, 404: RunNotFound, 409: RunConflict },
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        const principal = principalOf(request);
        const run = await loadRun(deps.runs, id, principal);
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
          await deps.queue.remove(await deps.runs.jobId(id)).catch(() => undefined);
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
        cache.forget(id);
        return reply.status(202).send(toRunRecord(await loadRun(deps.runs, id, principal)));
      },
    );

    app.post(
      '/v1/runs/:id/rerun',
      {
        config: { access: ACCESS.write },
        schema: {
          tags: ['runs'],
          operationId: 'rerunRun',
          summary: 'Run a finished run again from a stage',
          description:
            'Only for a finished run (succeeded, failed or cancelled; otherwise 409 `run_not_finished`). The run ' +
            'goes back to `queued` (finishedAt and error cleared, a `run.requeued` event appended) and a worker runs ' +
            'it again from `fromStage`, keeping what came before. It counts as a live run of its tenant again.',
          params: RunParams,
          body: RerunRequest,
          response: { 202: RunRecord, 400: ErrorBody, 404: RunNotFound, 409: RunConflict },
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        const principal = principalOf(request);
        const run = await loadRun(deps.runs, id, principal);
        const { fromStage } = request.body;
        if (run.mode === 'evolve') {
          const message =
            'an evolve run has no stages to rerun; submit a new evolve run (with its best program as inputs.code to go on from it)';
          throw new ApiError('validation_failed', `Invalid body fromStage: ${message}.`, {
            issues: [{ path: 'fromStage', message, in: 'body' }],
          });
        }
        const result = await deps.runs.requeueForRerun(id, fromStage, { maxActiveRuns: deps.tenantMaxActiveRuns });
        cache.forget(id);
        if (!result.ok) {
          if (result.reason === 'not_found') throw runNotFound(id);
          // Asking again heals a rerun whose job never reached the queue (the API stopped between the two writes),
          // as a repeated submit does for a new run.
          if (result.reason === 'not_finished' && result.status === 'queued' && (await enqueueLostRerun(deps, id)))
            return reply.status(202).send(toRunRecord(await loadRun(deps.runs, id, principal)));
          if (result.reason === 'not_finished')
            throw new ApiError(
              'run_not_finished',
              `The run is still ${result.status}; only a finished run can be rerun.`,
            );
          throw tooManyActiveRuns(reply, run.tenant, result.active, deps.tenantMaxActiveRuns);
        }
        await enqueueRerun(deps.queue, id, result.jobId, fromStage);
        return reply.status(202).send(toRunRecord(await loadRun(deps.runs, id, principal)));
      },
    );
  };

/**
 * Every upload a run names must exist and be the run's tenant's (also for an admin key: the run runs as its
 * tenant), and a template must be a built-in one. Refused like any invalid field, naming it; another tenant's upload
 * reads exactly like a missing one.
 */
async function checkInputs(
  deps: ApiDeps,
  request: { inputs: RunInputs; evolve?: { program?: string } | undefined },
  tenant: string,
): Promise<void> {
  const { inputs } = request;
  const invalid = (field: string, message: string) =>
    new ApiError('validation_failed', `Invalid body ${field}: ${message}.`, {
      issues: [{ path: field, message, in: 'body' }],
    });
  const visible = new Set<string>();
  for (const { field, uploadId } of runUploads(inputs)) {
    const upload = await deps.uploads.get(uploadId, tenant);
    if (!upload) throw invalid(field, `there is no upload ${uploadId} of tenant ${tenant}`);
    const paths = upload.files.map((f) => f.path);
    const secret = field.startsWith('inputs.evaluation.');
    // What the experiments see and what only the grader sees must be different uploads, or the test is not held out.
    if (secret && visible.has(uploadId))
      throw invalid(
        field,
        `upload ${uploadId} is also an input the experiments see; the held-out files must be an upload of their own`,
      );
    if (!secret) visible.add(uploadId);
    const answers = answersFileCount(paths);
    if (field === 'inputs.evaluation.hidden' && inputs.evaluation?.metric && answers !== 1)
      throw invalid(
        field,
        `the built-in metric reads the answers from the upload's one CSV file (with 'id' and 'label' columns); upload ${uploadId} holds ${answers} CSV files`,
      );
    if (field === 'inputs.evaluation.grader' && !graderEntryPoint(paths))
      throw invalid(field, `upload ${uploadId} has no grade.py (or a single top-level .py file) to run`);
    if (field === 'inputs.evaluator' && !evaluatorEntryPoint(paths))
      throw invalid(field, `upload ${uploadId} has no evaluate.py (or a single top-level .py file) to run`);
    if (
      field === 'inputs.code' &&
      inputs.evaluator !== undefined &&
      !evolveProgramEntry(paths, request.evolve?.program)
    )
      throw invalid(
        request.evolve?.program === undefined ? field : 'evolve.program',
        request.evolve?.program === undefined
          ? `upload ${uploadId} holds several files: name the one to evolve with evolve.program (or upload program.py or main.py)`
          : `upload ${uploadId} has no file ${JSON.stringify(request.evolve.program)}`,
      );
  }
  if (inputs.template !== undefined && !deps.templates.get(inputs.template)) {
    const known = deps.templates.list().map((t) => t.name);
    throw invalid('inputs.template', `there is no template ${inputs.template} (known: ${known.join(', ')})`);
  }
}

/** The image a run names must be one this deployment offers (`GET /v1/images`). */
function checkImage(deps: ApiDeps, image: string): void {
  if (deps.sandboxImages.some((known) => known.name === image)) return;
  const message = `there is no sandbox image ${JSON.stringify(image)} (GET /v1/images lists them: ${deps.sandboxImages.map((i) => i.name).join(', ')})`;
  throw new ApiError('validation_failed', `Invalid body sandbox.image: ${message}.`, {
    issues: [{ path: 'sandbox.image', message, in: 'body' }],
  });
}

/** What a run may spend when it does not say. */
const DEFAULT_BUDGET_USD = 5;

/**
 * The run's USD budget. It binds only if every model of the run has a price: a budget asked for a run with an
 * unpriced model is refused (it would never stop anything), and such a run without one has no USD budget (its
 * token cap, `maxTokens`, is its limit).
 */
function runBudget(deps: ApiDeps, models: string[], requested: number | undefined): number | null {
  const unpriced = [...new Set(models)].filter((name) => priceOf(deps.prices, name) === null);
  if (unpriced.length === 0) return requested ?? DEFAULT_BUDGET_USD;
  if (requested === undefined) return null;
  const message =
    `a budget in USD cannot bind: no price is known for ${unpriced.map((name) => JSON.stringify(name)).join(', ')} ` +
    '(configure it in AUTOLAB_MODEL_PRICES, or leave out budgetUsd and cap the run with maxTokens)';
  throw new ApiError('validation_failed', `Invalid body budgetUsd: ${message}.`, {
    issues: [{ path: 'budgetUsd', message, in: 'body' }],
  });
}

/** Enqueues the run's pending rerun job if the queue does not have it; true if it had to. */
async function enqueueLostRerun(deps: ApiDeps, runId: string): Promise<boolean> {
  const [jobId, rerunFrom] = await Promise.all([deps.runs.jobId(runId), deps.runs.rerunFrom(runId)]);
  if (jobId === runId || rerunFrom === null || (await deps.queue.getJob(jobId))) return false;
  await enqueueRerun(deps.queue, runId, jobId, rerunFrom);
  return true;
}
