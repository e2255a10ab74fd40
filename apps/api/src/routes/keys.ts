import { ApiKeyList, CreateApiKeyRequest, CreatedApiKey, ErrorBody, requestedScopes } from '@autolab/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS } from '../auth.js';
import { ApiError } from '../errors.js';

/** API key management; the auth plugin lets only admin keys through (403 `forbidden` otherwise). */
export const keyRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/admin/keys',
      {
        config: { access: ACCESS.admin },
        schema: {
          tags: ['admin'],
          operationId: 'createApiKey',
          summary: 'Create an API key (admin)',
          description:
            'The secret (`key`) is in this answer only; the server keeps just its SHA-256 hash. `scopes` limit what ' +
            'the key may do (a read-only key for a wall dashboard or a CI job: `["runs:read"]`); `expiresAt` ends it.',
          body: CreateApiKeyRequest,
          response: { 201: CreatedApiKey, 400: ErrorBody },
        },
      },
      async (request, reply) => {
        const { tenant, name, expiresAt } = request.body;
        const { record, key } = await deps.keys.create({
          tenant,
          name,
          expiresAt,
          scopes: requestedScopes(request.body),
        });
        const { revokedAt: _, ...created } = record;
        return reply.status(201).send({ ...created, key });
      },
    );

    app.get(
      '/v1/admin/keys',
      {
        config: { access: ACCESS.admin },
        schema: {
          tags: ['admin'],
          operationId: 'listApiKeys',
          summary: 'List API keys, oldest first (admin; no secrets)',
          response: { 200: ApiKeyList },
        },
      },
      async () => ({ keys: await deps.keys.list() }),
    );

    app.delete(
      '/v1/admin/keys/:id',
      {
        config: { access: ACCESS.admin },
        schema: {
          tags: ['admin'],
          operationId: 'revokeApiKey',
          summary: 'Revoke an API key (admin); it gets 401 from the next request on',
          params: z.object({ id: z.string().max(100) }),
          response: { 204: z.null().describe('Revoked (also when it already was).'), 404: ErrorBody },
        },
      },
      async (request, reply) => {
        if (!(await deps.keys.revoke(request.params.id)))
          throw new ApiError('key_not_found', `There is no API key ${JSON.stringify(request.params.id.slice(0, 80))}.`);
        return reply.status(204).send(null);
      },
    );
  };
