import {
  type ApiKeyList,
  ApiKeyList as ApiKeyListSchema,
  type ArtifactEntry,
  ArtifactList as ArtifactListSchema,
  type CreateApiKeyRequest,
  type CreatedApiKey,
  CreatedApiKey as CreatedApiKeySchema,
  type CreateRunRequest,
  type EventPage,
  EventPage as EventPageSchema,
  type Hint,
  type HintList,
  HintList as HintListSchema,
  Hint as HintSchema,
  type Lesson,
  type LessonDetail,
  LessonDetail as LessonDetailSchema,
  type LessonKind,
  type LessonList,
  LessonList as LessonListSchema,
  Lesson as LessonSchema,
  type RerunStage,
  type RunEvent,
  type RunList,
  RunList as RunListSchema,
  type RunRecord,
  RunRecord as RunRecordSchema,
  type TemplateList,
  TemplateList as TemplateListSchema,
  UploadRecord,
} from '@autolab/contracts';
import { z } from 'zod';
import { networkReason, ProtocolError, toApiError, UnreachableError } from './errors.js';
import { createTypedClient, type TypedClient } from './typed-client.js';

/** The answer to an upload: the record and the files the server left out (hidden files), with why. */
const CreatedUploadSchema = UploadRecord.extend({
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })).default([]),
});
export type CreatedUpload = z.infer<typeof CreatedUploadSchema>;

export interface ArtifactList {
  artifacts: ArtifactEntry[];
}

export type ArchiveSubset = 'all' | 'paper' | 'code';

/** A response body to stream somewhere, with what the server said about it. */
export interface Download {
  body: ReadableStream<Uint8Array>;
  /** From `Content-Length`; `null` for chunked responses. */
  size: number | null;
  mediaType: string | null;
  /** The file name `Content-Disposition` suggests; `null` when it names none. */
  fileName: string | null;
}

/**
 * What an upload sends: a `FormData` of `file` parts (a browser), or a multipart body already encoded, with its
 * content type and length (the CLI streams files from disk; see apps/cli/src/upload-files.ts).
 */
export interface UploadBody {
  body: NonNullable<RequestInit['body']>;
  /** Leave out for `FormData`: fetch sets it, boundary included. */
  contentType?: string;
  contentLength?: number;
}

/** A page of events as sent: each checked for an id and a type only, so event types newer than this client pass. */
export interface EventPageAsSent {
  events: RunEvent[];
  next: string | null;
  finished: boolean;
}

interface Schema<T> {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

/** What openapi-fetch hands back for one call. */
interface TypedResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

interface RequestOptions {
  headers?: Record<string, string>;
  accept?: string;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:8080/` (a browser on the API's own origin: `location.origin`). */
  baseUrl: string;
  apiKey?: string | null;
  fetch?: typeof fetch;
}

/** Events per JSON page when reading a log to its end. */
const PAGE_LIMIT = 1000;

/**
 * The Autolab HTTP API, for the CLI and the dashboard alike. Every JSON route goes through the typed route client,
 * whose paths, parameters, bodies and answers are typed from the API's OpenAPI document, so this file stops compiling
 * when the API changes under it; every answer is also checked against the contracts' zod schemas at run time. Streams
 * (events, artifacts, archives) use fetch directly, since they are read as they arrive. Errors are the classes of
 * errors.ts: `ApiError` (the API's error body), `UnreachableError`, `ProtocolError`. Browser-safe: no Node-only import.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string | null;
  private readonly fetchImpl: typeof fetch;
  private readonly typed: TypedClient;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    this.apiKey = options.apiKey ?? null;
    // Called unbound: a browser's fetch refuses to run with another `this` ("Illegal invocation").
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.typed = createTypedClient({
      baseUrl: this.baseUrl,
      apiKey: this.apiKey ?? undefined,
      fetch: (input) => this.send(input),
    });
    this.typed.use({
      onRequest: ({ request }) => {
        if (!request.headers.has('accept')) request.headers.set('accept', 'application/json');
        return request;
      },
    });
  }

  /** An absolute URL for an API path or a link from a record (`/v1/runs/…`). */
  url(path: string): string {
    return new URL(path.replace(/^\/+/, ''), this.baseUrl).href;
  }

  /** Creates one upload of the key's tenant from a multipart body of `file` parts (see `UploadBody`). */
  async createUpload(upload: UploadBody): Promise<CreatedUpload> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (upload.contentType) headers['Content-Type'] = upload.contentType;
    if (upload.contentLength !== undefined) headers['Content-Length'] = String(upload.contentLength);
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    // `duplex` is required for a streamed body and harmless for any other.
    const init = { method: 'POST', headers, body: upload.body, duplex: 'half' } as RequestInit;
    const response = await this.send(this.url('v1/uploads'), init);
    const text = await readText(response);
    if (!response.ok) throw toApiError(response, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ProtocolError(`${this.baseUrl} answered the upload with something that is not JSON`);
    }
    return checkShape(response, json, CreatedUploadSchema);
  }

  async createRun(request: CreateRunRequest, options: { idempotencyKey?: string } = {}): Promise<RunRecord> {
    const header = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};
    return this.parse(() => this.typed.POST('/v1/runs', { body: request, params: { header } }), RunRecordSchema);
  }

  async listRuns(query: { limit?: number; cursor?: string } = {}): Promise<RunList> {
    const params = { query: { limit: query.limit, cursor: query.cursor || undefined } };
    return this.parse(() => this.typed.GET('/v1/runs', { params }), RunListSchema);
  }

  async listTemplates(): Promise<TemplateList> {
    return this.parse(() => this.typed.GET('/v1/templates'), TemplateListSchema);
  }

  async getRun(runId: string): Promise<RunRecord> {
    return this.parse(() => this.typed.GET('/v1/runs/{id}', { params: { path: { id: runId } } }), RunRecordSchema);
  }

  async cancelRun(runId: string): Promise<RunRecord> {
    return this.parse(
      () => this.typed.POST('/v1/runs/{id}/cancel', { params: { path: { id: runId } } }),
      RunRecordSchema,
    );
  }

  async listArtifacts(runId: string): Promise<ArtifactList> {
    return this.parse(
      () => this.typed.GET('/v1/runs/{id}/artifacts', { params: { path: { id: runId } } }),
      ArtifactListSchema,
    );
  }

  /** Events after `after` as one JSON page (the polling alternative to the SSE stream). */
  async eventPage(runId: string, query: { after?: string; limit?: number } = {}): Promise<EventPage> {
    const params = { path: { id: runId }, query: { after: query.after || undefined, limit: query.limit } };
    return this.parse(() => this.typed.GET('/v1/runs/{id}/events', { params }), EventPageSchema);
  }

  /** Like `eventPage`, but each event is checked for an id and a type only (a dashboard shows types it does not know). */
  async eventPageAsSent(runId: string, query: { after?: string; limit?: number } = {}): Promise<EventPageAsSent> {
    const params = { path: { id: runId }, query: { after: query.after || undefined, limit: query.limit } };
    return this.parse(() => this.typed.GET('/v1/runs/{id}/events', { params }), EventPageAsSentSchema);
  }

  /** Every event of the run so far, page by page (the last page is the first empty one). */
  async allEvents(runId: string): Promise<RunEvent[]> {
    const events: RunEvent[] = [];
    for (;;) {
      const page = await this.eventPage(runId, { after: events.at(-1)?.id, limit: PAGE_LIMIT });
      if (page.events.length === 0) return events;
      events.push(...page.events);
    }
  }

  /**
   * The id of the run's latest event (`null` for an empty log), read page by page until an empty one. Only ids are
   * looked at, so events newer than this CLI do not stop it, and pages are followed past a `run.finished` (a rerun
   * continues the same log).
   */
  async lastEventId(runId: string): Promise<string | null> {
    let last: string | null = null;
    for (;;) {
      const after: string | undefined = last ?? undefined;
      const params = { path: { id: runId }, query: { after, limit: PAGE_LIMIT } };
      const page: EventIds = await this.parse(() => this.typed.GET('/v1/runs/{id}/events', { params }), EventIdsSchema);
      // An empty page is the end; a short one may only be the server's own page limit.
      if (page.events.length === 0) return last;
      last = page.events.at(-1)!.id;
    }
  }

  /** Guidance for a live run's agent; it is folded into the next prompt. */
  async createHint(runId: string, text: string): Promise<Hint> {
    return this.parse(
      () => this.typed.POST('/v1/runs/{id}/hints', { params: { path: { id: runId } }, body: { text } }),
      HintSchema,
    );
  }

  /** The hints sent to a run, oldest first, with where each was applied. */
  async listHints(runId: string): Promise<HintList> {
    return this.parse(() => this.typed.GET('/v1/runs/{id}/hints', { params: { path: { id: runId } } }), HintListSchema);
  }

  /** Starts a finished run again from `fromStage`, keeping what came before it. */
  async rerun(runId: string, fromStage: RerunStage): Promise<RunRecord> {
    return this.parse(
      () => this.typed.POST('/v1/runs/{id}/rerun', { params: { path: { id: runId } }, body: { fromStage } }),
      RunRecordSchema,
    );
  }

  /** The tenant's lessons: with `q` the relevant ones, most relevant first; without, all, newest first. */
  async listLessons(
    query: {
      q?: string;
      kind?: LessonKind;
      tag?: string[];
      retracted?: 'include' | 'exclude';
      limit?: number;
      cursor?: string;
    } = {},
  ): Promise<LessonList> {
    const params = {
      query: {
        q: query.q || undefined,
        kind: query.kind,
        tag: query.tag && query.tag.length > 0 ? query.tag : undefined,
        retracted: query.retracted,
        limit: query.limit,
        cursor: query.cursor || undefined,
      },
    };
    return this.parse(() => this.typed.GET('/v1/lessons', { params }), LessonListSchema);
  }

  /** One lesson with its evidence, each entry linked to its run, node and results.json. */
  async getLesson(lessonId: string): Promise<LessonDetail> {
    return this.parse(
      () => this.typed.GET('/v1/lessons/{id}', { params: { path: { id: lessonId } } }),
      LessonDetailSchema,
    );
  }

  /** Pins (retrieved first) or retracts (never retrieved) a lesson, or undoes either. */
  async updateLesson(lessonId: string, change: { pinned?: boolean; retracted?: boolean }): Promise<Lesson> {
    return this.parse(
      () => this.typed.PATCH('/v1/lessons/{id}', { params: { path: { id: lessonId } }, body: change }),
      LessonSchema,
    );
  }

  /** Deletes a lesson (the API answers 204, no body). */
  async deleteLesson(lessonId: string): Promise<void> {
    await this.call(() => this.typed.DELETE('/v1/lessons/{id}', { params: { path: { id: lessonId } } }));
  }

  async createKey(request: CreateApiKeyRequest): Promise<CreatedApiKey> {
    return this.parse(() => this.typed.POST('/v1/admin/keys', { body: request }), CreatedApiKeySchema);
  }

  async listKeys(): Promise<ApiKeyList> {
    return this.parse(() => this.typed.GET('/v1/admin/keys'), ApiKeyListSchema);
  }

  /** Revokes a key (the API answers 204, no body). */
  async revokeKey(keyId: string): Promise<void> {
    await this.call(() => this.typed.DELETE('/v1/admin/keys/{id}', { params: { path: { id: keyId } } }));
  }

  /** Opens the run's Server-Sent Events stream, resuming after `lastEventId` when given. */
  async openEventStream(
    runId: string,
    options: { lastEventId?: string | null; signal?: AbortSignal } = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = { 'Cache-Control': 'no-cache' };
    if (options.lastEventId) headers['Last-Event-ID'] = options.lastEventId;
    const response = await this.request(`${runPath(runId)}/events`, {
      accept: 'text/event-stream',
      headers,
      signal: options.signal,
    });
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream') || !response.body) {
      await response.body?.cancel();
      throw new ProtocolError(`expected an event stream from ${response.url}, got "${type || 'no content type'}"`);
    }
    return response.body;
  }

  /** One artifact file, e.g. `paper/paper.pdf`. */
  async openArtifact(runId: string, path: string, signal?: AbortSignal): Promise<Download> {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    return this.download(await this.request(`${runPath(runId)}/artifacts/${encoded}`, { accept: '*/*', signal }));
  }

  /** One artifact file read whole as text (for small files such as a node's captured output). */
  async readArtifactText(runId: string, path: string): Promise<string> {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    return readText(await this.request(`${runPath(runId)}/artifacts/${encoded}`, { accept: '*/*' }));
  }

  /** A `.tar.gz` of the run's artifacts (entries prefixed `<runId>/`). */
  async openArchive(runId: string, subset: ArchiveSubset, signal?: AbortSignal): Promise<Download> {
    const response = await this.request(`${runPath(runId)}/archive?subset=${subset}`, { accept: '*/*', signal });
    return this.download(response);
  }

  private download(response: Response): Download {
    if (!response.body) throw new ProtocolError(`empty answer from ${response.url}`);
    const length = response.headers.get('content-length');
    const size = length !== null && /^\d+$/.test(length) ? Number(length) : null;
    const disposition = response.headers.get('content-disposition') ?? '';
    const fileName = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? null;
    return { body: response.body, size, mediaType: response.headers.get('content-type'), fileName };
  }

  /** Every request leaves through here: network failures become `UnreachableError`, aborts stay aborts. */
  private async send(input: Request | URL | string, init?: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(input, init);
    } catch (error) {
      const signal = input instanceof Request ? input.signal : init?.signal;
      if (signal?.aborted) throw error;
      throw new UnreachableError(`cannot reach ${this.baseUrl} (${networkReason(error)})`, { cause: error });
    }
  }

  /** A GET whose body is read as it arrives (events, files); an error status becomes `ApiError`. */
  private async request(path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: options.accept ?? 'application/json', ...options.headers };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    const response = await this.send(this.url(path), { headers, signal: options.signal });
    if (!response.ok) throw toApiError(response, await response.text().catch(() => ''));
    return response;
  }

  /** Runs one typed call and checks its answer: an error status becomes `ApiError`, a body in the wrong shape a `ProtocolError`. */
  private async parse<T>(call: () => Promise<TypedResult>, schema: Schema<T>): Promise<T> {
    const result = await this.call(call);
    return checkShape(result.response, result.data, schema);
  }

  /** Runs one typed call: network trouble becomes `UnreachableError`, an error status `ApiError`. */
  private async call(call: () => Promise<TypedResult>): Promise<TypedResult> {
    let result: TypedResult;
    try {
      result = await call();
    } catch (error) {
      if (error instanceof UnreachableError || (error instanceof Error && error.name === 'AbortError')) throw error;
      if (error instanceof SyntaxError) {
        throw new ProtocolError(`${this.baseUrl} answered with something that is not JSON (${error.message})`);
      }
      throw new UnreachableError(`the connection to ${this.baseUrl} broke (${networkReason(error)})`, {
        cause: error,
      });
    }
    if (!result.response.ok) throw toApiError(result.response, result.error);
    return result;
  }
}

/** A page of events looked at for its ids only (an event type newer than this CLI must not stop the reading). */
interface EventIds {
  events: { id: string }[];
}
const EventIdsSchema: Schema<EventIds> = {
  safeParse(input) {
    const events = (input as { events?: unknown } | null)?.events;
    const valid =
      Array.isArray(events) && events.every((event) => typeof (event as { id?: unknown } | null)?.id === 'string');
    return valid
      ? { success: true, data: { events: events as { id: string }[] } }
      : { success: false, error: { message: 'expected {events: [{id}, …]}' } };
  },
};

const EventPageAsSentSchema: Schema<EventPageAsSent> = {
  safeParse(input) {
    const page = input as { events?: unknown; next?: unknown; finished?: unknown } | null;
    const events = page?.events;
    const valid =
      Array.isArray(events) &&
      events.every((event) => {
        const { id, type } = (event ?? {}) as { id?: unknown; type?: unknown };
        return typeof id === 'string' && typeof type === 'string';
      }) &&
      (typeof page?.next === 'string' || page?.next === null) &&
      typeof page?.finished === 'boolean';
    return valid
      ? { success: true, data: page as EventPageAsSent }
      : { success: false, error: { message: 'expected {events: [{id, type, …}, …], next, finished}' } };
  },
};

const runPath = (runId: string): string => `v1/runs/${encodeURIComponent(runId)}`;

function checkShape<T>(response: Response, json: unknown, schema: Schema<T>): T {
  if (json === undefined) throw new ProtocolError(`${response.url} answered ${response.status} without a body`);
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new ProtocolError(`${response.url} answered in an unexpected shape: ${result.error.message}`);
  }
  return result.data;
}

async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw new UnreachableError(`the connection to ${response.url} broke (${networkReason(error)})`, { cause: error });
  }
}
