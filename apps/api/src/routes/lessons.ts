import {
  CreateRunRequest,
  ErrorBody,
  LESSON_ID_PATTERN,
  Lesson,
  LessonDetail,
  LessonKind,
  LessonList,
  LessonSharing,
  SearchStats,
  Tenant,
  UpdateLessonRequest,
} from '@autolab/contracts';
import { evidenceRecordPath } from '@autolab/contracts/evolve-artifacts';
import { TUNABLE_FIELDS, tuneSearch } from '@autolab/lessons';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../app.js';
import { ACCESS, principalOf } from '../auth.js';
import { ApiError } from '../errors.js';

/** The search policy a request that sets none of it gets, before the tenant's statistics: computed once. */
const REQUEST_SEARCH_DEFAULTS = CreateRunRequest.parse({ goal: 'the request defaults only' }).search;

const LessonParams = z.object({ id: z.string().max(100) });
const LessonNotFound = ErrorBody.describe(
  '`lesson_not_found`: there is no such lesson your tenant may read (another tenant’s answers the same).',
);
const NotYours = ErrorBody.describe(
  '`lesson_not_found` for a lesson you cannot read; `lesson_read_only` for one shared with your tenant by another.',
);

const lessonNotFound = (id: string) =>
  new ApiError('lesson_not_found', `There is no lesson with id ${JSON.stringify(id.slice(0, 80))}.`);

const runLink = (runId: string) => `/v1/runs/${encodeURIComponent(runId)}`;

/** The lesson with every piece of evidence linked to the run and the files it was read from. */
function withLinks(lesson: Lesson): LessonDetail {
  return {
    ...lesson,
    evidence: lesson.evidence.map((e) => ({
      ...e,
      links: {
        run: runLink(e.runId),
        node: `${runLink(e.runId)}/artifacts/${evidenceRecordPath(e.nodeId).split('/').map(encodeURIComponent).join('/')}`,
        results: e.results
          ? `${runLink(e.runId)}/artifacts/${e.results.split('/').map(encodeURIComponent).join('/')}`
          : null,
      },
    })),
  };
}

/**
 * A tenant's lessons (docs/lessons.md): what its finished runs taught, each with the measurements behind it. Read and
 * search them; pin a lesson (retrieved first) or retract it (kept for the record, never retrieved), or delete it. A
 * library an admin shared with the tenant is read-only to it.
 */
export const lessonRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const store = deps.lessons;

    /** One of the caller's own lessons, or the error that says why not (not readable, or only shared with it). */
    async function ownLesson(tenant: string, id: string): Promise<Lesson> {
      const lesson = LESSON_ID_PATTERN.test(id) ? await store.get(tenant, id) : null;
      if (!lesson) throw lessonNotFound(id);
      if (lesson.tenant !== tenant)
        throw new ApiError(
          'lesson_read_only',
          `Lesson ${id} belongs to tenant ${lesson.tenant}, which shares it with yours read-only.`,
        );
      return lesson;
    }

    app.get(
      '/v1/lessons',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['lessons'],
          operationId: 'listLessons',
          summary: "Search or list your tenant's lessons",
          description:
            'With `q`: the lessons a run with that goal, plan or error would get, most relevant first (full-text ' +
            'search over text and tags, weighted by confidence; nothing when nothing is relevant). Without: every ' +
            'lesson, most recently changed first. Includes lessons other tenants share with yours (their `tenant` ' +
            'says whose). Retracted lessons only with `retracted=include`.',
          querystring: z.object({
            q: z.string().max(2000).optional().describe('Free text: a goal, a plan, an error message.'),
            kind: LessonKind.optional(),
            tag: z
              .union([z.string().max(60), z.array(z.string().max(60)).max(10)])
              .optional()
              .describe('Only lessons with this tag (repeat for all of several), e.g. `lib:numpy`.'),
            retracted: z.enum(['include', 'exclude']).default('exclude'),
            limit: z.coerce.number().int().min(1).max(100).default(20),
            cursor: z
              .string()
              .regex(/^\d{1,6}$/, 'not a cursor from a previous page')
              .optional(),
          }),
          response: { 200: LessonList, 400: ErrorBody },
        },
      },
      async (request) => {
        const { q, kind, tag, retracted, limit, cursor } = request.query;
        const offset = cursor ? Number(cursor) : 0;
        const { hits, more } = await store.search(principalOf(request).tenant, {
          ...(q ? { q } : {}),
          ...(kind ? { kinds: [kind] } : {}),
          ...(tag ? { tags: typeof tag === 'string' ? [tag] : tag } : {}),
          includeRetracted: retracted === 'include',
          limit,
          offset,
        });
        return { lessons: hits.map((h) => h.lesson), nextCursor: more ? String(offset + limit) : null };
      },
    );

    app.get(
      '/v1/lessons/:id',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['lessons'],
          operationId: 'getLesson',
          summary: 'One lesson with its evidence, each linked to its run, node and results.json',
          params: LessonParams,
          response: { 200: LessonDetail, 404: LessonNotFound },
        },
      },
      async (request) => {
        const { id } = request.params;
        const lesson = LESSON_ID_PATTERN.test(id) ? await store.get(principalOf(request).tenant, id) : null;
        if (!lesson) throw lessonNotFound(id);
        return withLinks(lesson);
      },
    );

    app.patch(
      '/v1/lessons/:id',
      {
        config: { access: ACCESS.write },
        schema: {
          tags: ['lessons'],
          operationId: 'updateLesson',
          summary: 'Pin or retract a lesson',
          description:
            'A pinned lesson is retrieved first when it matches; a retracted one is never put into a run again ' +
            '(it stays listed with `retracted=include`). Undo either with `false`.',
          params: LessonParams,
          body: UpdateLessonRequest,
          response: { 200: Lesson, 400: ErrorBody, 404: LessonNotFound, 409: NotYours },
        },
      },
      async (request) => {
        const { tenant } = principalOf(request);
        await ownLesson(tenant, request.params.id);
        const updated = await store.update(tenant, request.params.id, request.body);
        if (!updated) throw lessonNotFound(request.params.id);
        return updated;
      },
    );

    app.delete(
      '/v1/lessons/:id',
      {
        config: { access: ACCESS.write },
        schema: {
          tags: ['lessons'],
          operationId: 'deleteLesson',
          summary: 'Delete a lesson',
          params: LessonParams,
          response: { 204: z.null().describe('Deleted.'), 404: LessonNotFound, 409: NotYours },
        },
      },
      async (request, reply) => {
        const { tenant } = principalOf(request);
        await ownLesson(tenant, request.params.id);
        if (!(await store.delete(tenant, request.params.id))) throw lessonNotFound(request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/v1/search-stats',
      {
        config: { access: ACCESS.read },
        schema: {
          tags: ['lessons'],
          operationId: 'getSearchStats',
          summary: "What your tenant's runs measured about the tree search, and the defaults it sets",
          description:
            'Counts over the finished runs of your tenant: drafts and how many worked, debug steps by depth and how ' +
            'many fixed their parent, experiments by stage and how many improved on their parent. `defaults` is ' +
            'what a run that leaves numDrafts, debugProb and maxDebugDepth out would get now, each with its reason.',
          response: { 200: SearchStats },
        },
      },
      async (request) => {
        const counts = await deps.searchStats.counts(principalOf(request).tenant);
        const { tuning } = tuneSearch(REQUEST_SEARCH_DEFAULTS, TUNABLE_FIELDS, counts);
        return { ...counts, defaults: tuning };
      },
    );

    const SharingParams = z.object({ tenant: Tenant });
    app.get(
      '/v1/admin/tenants/:tenant/lesson-readers',
      {
        config: { access: ACCESS.admin },
        schema: {
          tags: ['admin'],
          operationId: 'getLessonSharing',
          summary: "Which tenants read a tenant's lessons",
          params: SharingParams,
          response: { 200: LessonSharing, 400: ErrorBody },
        },
      },
      async (request) => ({ tenant: request.params.tenant, readers: await store.readers(request.params.tenant) }),
    );

    app.put(
      '/v1/admin/tenants/:tenant/lesson-readers',
      {
        config: { access: ACCESS.admin },
        schema: {
          tags: ['admin'],
          operationId: 'setLessonSharing',
          summary: "Share a tenant's lessons read-only with named tenants (replaces the list; [] stops sharing)",
          params: SharingParams,
          body: z.object({ readers: z.array(Tenant).max(100) }).strict(),
          response: { 200: LessonSharing, 400: ErrorBody },
        },
      },
      async (request) => {
        const { tenant } = request.params;
        await store.share(tenant, [...new Set(request.body.readers)]);
        return { tenant, readers: await store.readers(tenant) };
      },
    );
  };
