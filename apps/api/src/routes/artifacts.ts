import { ArtifactList, ErrorBody, normalizeRelativePath } from '@autolab/contracts';
import { type ArchiveSubset, archiveStream } from '@autolab/store';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS, principalOf } from '../auth.js';
import { ApiError } from '../errors.js';
import { RunNotFound } from '../route-schemas.js';
import { loadRun } from '../run-view.js';

const INLINE = /^(application\/pdf|image\/|text\/)/;

export const artifactRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/runs/:id/artifacts',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['artifacts'],
          operationId: 'listArtifacts',
          summary: 'List the files of a run',
          params: z.object({ id: z.string().max(100) }),
          response: { 200: ArtifactList, 404: RunNotFound },
        },
      },
      async (request) => {
        const run = await loadRun(deps.runs, request.params.id, principalOf(request));
        return { artifacts: await deps.artifacts.list(run.id) };
      },
    );

    app.get(
      '/v1/runs/:id/artifacts/*',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['artifacts'],
          operationId: 'getArtifact',
          summary: 'Download one file of a run (e.g. paper/paper.pdf)',
          params: z.object({ id: z.string().max(100), '*': z.string().max(1024) }),
          response: {
            200: z.any().describe('The file, with its media type.'),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const run = await loadRun(deps.runs, request.params.id, principalOf(request));
        const path = normalizeRelativePath(request.params['*']);
        if (!path)
          throw new ApiError(
            'invalid_path',
            `Not a valid artifact path: ${JSON.stringify(request.params['*'].slice(0, 200))}.`,
          );
        const file = await deps.artifacts.open(run.id, path);
        if (!file) throw new ApiError('artifact_not_found', `This run has no file ${path}.`);
        const name = path.split('/').at(-1)!;
        reply
          .header('content-type', file.mediaType)
          .header('content-length', file.size)
          .header('content-disposition', `${INLINE.test(file.mediaType) ? 'inline' : 'attachment'}; filename="${name}"`)
          .header('x-content-type-options', 'nosniff')
          // Files come from model-written code: never let a browser run them as part of this origin.
          .header('content-security-policy', "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox");
        return reply.send(file.stream);
      },
    );

    app.get(
      '/v1/runs/:id/archive',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['artifacts'],
          operationId: 'getArchive',
          summary: 'Download the files of a run as one .tar.gz (streamed)',
          description: '`subset=paper`: paper sources, PDF and figures; `code`: every experiment’s code and outputs.',
          params: z.object({ id: z.string().max(100) }),
          querystring: z.object({ subset: z.enum(['all', 'paper', 'code']).default('all') }),
          response: {
            200: z.any().describe('A gzipped tar archive.'),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const run = await loadRun(deps.runs, request.params.id, principalOf(request));
        const subset: ArchiveSubset = request.query.subset;
        const suffix = subset === 'all' ? '' : `-${subset}`;
        const archive = await archiveStream(deps.artifacts, run.id, subset);
        reply
          .header('content-type', 'application/gzip')
          .header('content-disposition', `attachment; filename="${run.id}${suffix}.tar.gz"`);
        return reply.send(archive);
      },
    );
  };
