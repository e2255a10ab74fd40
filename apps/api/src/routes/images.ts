import { SandboxImageList } from '@autolab/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../app.js';
import { ACCESS } from '../auth.js';

export const imageRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/images',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['runs'],
          operationId: 'listImages',
          summary: 'Sandbox images a run can pick',
          description:
            'The built-in `python` image (the default) and those the operator registered with ' +
            '`AUTOLAB_SANDBOX_IMAGES`; a run names one in `sandbox.image`.',
          response: { 200: SandboxImageList },
        },
      },
      async () => ({ images: deps.sandboxImages }),
    );
  };
