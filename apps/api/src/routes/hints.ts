import { CreateHintRequest, ErrorBody, Hint, HintList } from '@autolab/contracts';
import { HintLimitError, HintRunFinishedError, HintRunNotFoundError, MAX_HINTS_PER_RUN } from '@autolab/store';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../app.js';
import { ACCESS, principalOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { RunConflict, RunNotFound, RunParams } from '../route-schemas.js';
import { loadRun, runNotFound } from '../run-view.js';

export const hintRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/runs/:id/hints',
      {
        config: { access: ACCESS.write },
        schema: {
          tags: ['runs'],
          operationId: 'createHint',
          summary: 'Send the agent a hint',
          description:
            'Guidance for a live (queued or running) run; the agent folds it into its next prompt and records ' +
            `where (\`appliedTo\`, event \`hint.applied\`). Appends \`hint.received\`. At most ${MAX_HINTS_PER_RUN} ` +
            'hints per run. A finished run gives 409 `run_already_finished`.',
          params: RunParams,
          body: CreateHintRequest,
          response: { 202: Hint, 400: ErrorBody, 404: RunNotFound, 409: RunConflict, 413: ErrorBody },
        },
      },
      async (request, reply) => {
        const run = await loadRun(deps.runs, request.params.id, principalOf(request));
        try {
          const hint = await deps.hints.add(run.id, request.body.text);
          return reply.status(202).send(hint);
        } catch (err) {
          if (err instanceof HintRunFinishedError)
            throw new ApiError('run_already_finished', `The run has already finished (${err.status}).`);
          if (err instanceof HintLimitError) throw new ApiError('hint_limit_reached', err.message);
          if (err instanceof HintRunNotFoundError) throw runNotFound(run.id);
          throw err;
        }
      },
    );

    app.get(
      '/v1/runs/:id/hints',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['runs'],
          operationId: 'listHints',
          summary: 'The hints sent to a run, oldest first, with where each was applied',
          params: RunParams,
          response: { 200: HintList, 404: RunNotFound },
        },
      },
      async (request) => {
        const run = await loadRun(deps.runs, request.params.id, principalOf(request));
        return { hints: await deps.hints.list(run.id) };
      },
    );
  };
