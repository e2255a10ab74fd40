import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import {
  ErrorBody,
  type Principal,
  runUploads,
  UPLOAD_ID_PATTERN,
  UploadList,
  UploadRecord,
  type UploadRecord as UploadRecordType,
} from '@autolab/contracts';
import {
  ArchiveFormatError,
  InvalidUploadError,
  type UploadDraft,
  UploadLimitError,
  type UploadStore,
} from '@autolab/store';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS, principalOf } from '../auth.js';
import { ApiError } from '../errors.js';

const UploadParams = z.object({ id: z.string().max(100) });
const UploadNotFound = ErrorBody.describe(
  '`upload_not_found`: there is no such upload (another tenant’s answers the same).',
);

const CreatedUpload = UploadRecord.extend({
  skipped: z
    .array(z.object({ path: z.string(), reason: z.string() }))
    .describe('Files left out on purpose (hidden files such as `.git/`, macOS metadata), with why.'),
});

const uploadNotFound = (id: string) =>
  new ApiError('upload_not_found', `There is no upload with id ${JSON.stringify(id.slice(0, 80))}.`);

/** The upload, or a 404 for a missing one, a string that cannot be an id, and another tenant's. */
async function loadUpload(store: UploadStore, id: string, principal: Principal): Promise<UploadRecordType> {
  const upload = await store.get(id, principal.admin ? undefined : principal.tenant);
  if (!upload) throw uploadNotFound(id);
  return upload;
}

/** Maps what the upload store refuses to the API's errors. */
function toApiError(err: unknown): unknown {
  if (err instanceof UploadLimitError)
    return new ApiError('upload_too_large', err.message, { limit: err.limit, value: err.value });
  if (err instanceof InvalidUploadError)
    return new ApiError('invalid_upload', err.message, err.entry ? { entry: err.entry } : undefined);
  if (err instanceof ArchiveFormatError) return new ApiError('invalid_upload', err.message);
  const code = (err as { code?: string }).code;
  // @fastify/multipart's own limits (parts, files, fields), and a body that is not valid multipart.
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT')
    return new ApiError('upload_too_large', 'The upload has more parts than it may have.');
  if (err instanceof Error && /multipart|boundary|Unexpected end of form|Malformed part header/i.test(err.message))
    return new ApiError('invalid_upload', `The body is not valid multipart/form-data: ${err.message}.`);
  return err;
}

/** Bytes and time an early error answer waits for a client to finish sending; past either, the connection is cut. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 15_000;

/**
 * Reads and drops what the client is still sending after the upload was refused (over a limit, a bad entry), so
 * that it receives the error answer: closing a connection with unread bytes makes the kernel reset it, and most
 * clients then report a broken connection instead of the 413 or 400. Bounded, so nobody can keep it busy.
 */
function discardRestOfBody(raw: IncomingMessage): Promise<void> {
  if (raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let dropped = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > DRAIN_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    raw.unpipe();
    raw.on('data', onData).on('end', done).on('error', done).on('close', done);
    raw.resume();
  });
}

/**
 * Users' own files: datasets, starting code, papers, hidden test sets. Streamed to disk part by part (never held in
 * memory), checked against the limits as the bytes arrive, and visible to nobody until the whole upload is in.
 */
export const uploadRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const store = deps.uploads;
    const { maxFiles } = store.limits;
    // Registered here, so that only this plugin's routes accept multipart bodies.
    await app.register(fastifyMultipart, {
      // The store counts bytes itself (and answers 413 with the limit); busboy must never silently truncate a file.
      limits: {
        fileSize: Number.POSITIVE_INFINITY,
        files: maxFiles + 1,
        parts: maxFiles + 16,
        fields: 8,
        fieldSize: 1024,
      },
      preservePath: true,
      throwFileSizeLimit: true,
    });

    app.post(
      '/v1/uploads',
      {
        config: { access: ACCESS.write, accepts: 'multipart/form-data' },
        schema: {
          tags: ['uploads'],
          operationId: 'createUpload',
          summary: 'Upload files (a dataset, starting code, papers, a hidden test set)',
          description:
            'A `multipart/form-data` body with one or more `file` parts; a part’s file name may carry a relative ' +
            'path (`data/train.csv`). An upload that is exactly one `.tar.gz`, `.tgz`, `.tar` or `.zip` is unpacked ' +
            '(`unpack=false` keeps it as one file); entries that are links, devices, absolute or `..` paths are ' +
            'refused (400 `invalid_upload` naming the entry), and so is an archive that unpacks to more than the ' +
            'upload limit or to more than AUTOLAB_UPLOAD_MAX_UNPACK_RATIO times its own size. Over a size or count ' +
            'limit: 413 `upload_too_large` with the limit in the message. Hidden files (`.git/`, `.DS_Store`) are ' +
            'skipped and listed in `skipped`.',
          querystring: z.object({
            unpack: z
              .enum(['true', 'false'])
              .default('true')
              .describe('`false`: keep an uploaded archive as one file instead of unpacking it.'),
          }),
          response: {
            201: CreatedUpload,
            400: ErrorBody.describe(
              '`invalid_upload`: a file name, an archive entry or the multipart body is refused.',
            ),
            413: ErrorBody.describe(
              '`upload_too_large`: over the bytes per upload, files per upload or bytes per tenant.',
            ),
          },
        },
      },
      async (request, reply) => {
        if (!request.isMultipart())
          throw new ApiError('unsupported_media_type', 'Send the files as multipart/form-data.');
        const { tenant } = principalOf(request);
        let draft: UploadDraft | null = null;
        try {
          draft = await store.begin(tenant);
          for await (const part of request.parts()) {
            if (part.type !== 'file') continue;
            await draft.receive(part.filename, part.file as Readable);
          }
          const upload = await draft.commit({ unpack: request.query.unpack === 'true' });
          draft = null;
          reply.header('location', `/v1/uploads/${upload.id}`);
          return reply.status(201).send(upload);
        } catch (err) {
          await discardRestOfBody(request.raw);
          throw toApiError(err);
        } finally {
          if (draft) await draft.discard();
        }
      },
    );

    app.get(
      '/v1/uploads',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['uploads'],
          operationId: 'listUploads',
          summary: 'List uploads, newest first',
          description: 'The caller’s tenant’s uploads (with an admin key, every tenant’s), without their file lists.',
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(100).default(20),
            cursor: z.string().regex(UPLOAD_ID_PATTERN, 'not a cursor from a previous page').optional(),
          }),
          response: { 200: UploadList, 400: ErrorBody },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return store.list(request.query.limit, request.query.cursor, principal.admin ? undefined : principal.tenant);
      },
    );

    app.get(
      '/v1/uploads/:id',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['uploads'],
          operationId: 'getUpload',
          summary: 'One upload with its files (path, size, SHA-256)',
          params: UploadParams,
          response: { 200: UploadRecord, 404: UploadNotFound },
        },
      },
      async (request) => loadUpload(store, request.params.id, principalOf(request)),
    );

    app.delete(
      '/v1/uploads/:id',
      {
        config: { access: ACCESS.write },
        schema: {
          tags: ['uploads'],
          operationId: 'deleteUpload',
          summary: 'Delete an upload and its files',
          params: UploadParams,
          response: {
            204: z.null().describe('Deleted.'),
            404: UploadNotFound,
            409: ErrorBody.describe('`upload_in_use`: a queued or running run reads it; `details.runIds` names them.'),
          },
        },
      },
      async (request, reply) => {
        const upload = await loadUpload(store, request.params.id, principalOf(request));
        const users = (await deps.runs.activeRuns(upload.tenant)).filter((run) =>
          runUploads(run.inputs).some((u) => u.uploadId === upload.id),
        );
        if (users.length > 0)
          throw new ApiError(
            'upload_in_use',
            `Upload ${upload.id} is an input of ${users.length} queued or running run(s) (${users
              .map((r) => r.id)
              .join(', ')}); delete it when they have finished.`,
            { runIds: users.map((r) => r.id) },
          );
        if (!(await store.delete(upload.id, upload.tenant))) throw uploadNotFound(request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
