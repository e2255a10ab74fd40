import { TemplateList } from '@autolab/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../app.js';
import { ACCESS } from '../auth.js';

export const templateRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/templates',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['templates'],
          operationId: 'listTemplates',
          summary: 'The built-in research templates',
          description:
            'Each is a goal, a baseline program, plotting code, seed ideas and notes for the paper. Start a run ' +
            'from one with `inputs.template: name` in `POST /v1/runs`: its baseline is the run’s starting code ' +
            '(the first experiment, run as it is) and its goal the run’s goal unless the request gives one.',
          response: { 200: TemplateList },
        },
      },
      async () => ({ templates: deps.templates.list() }),
    );
  };
