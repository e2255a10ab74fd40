import {
  type ArtifactEntry,
  ArtifactList as ArtifactListSchema,
  type CreateRunRequest,
  ErrorBody,
  type EventPage,
  EventPage as EventPageSchema,
  type RunList,
  RunList as RunListSchema,
  type RunRecord,
  RunRecord as RunRecordSchema,
} from '@autolab/contracts';
import { ApiError, ProtocolError, UnreachableError } from './errors.js';

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
}

interface Schema<T> {
  safeParse(input: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

interface RequestOptions {
  method?: 'GET' | 'POST';
  json?: unknown;
  headers?: Record<string, string>;
  accept?: string;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  /** Base URL ending in `/`, e.g. `http://127.0.0.1:8080/`. */
  baseUrl: string;
  apiKey?: string | null;
  fetch?: typeof fetch;
}

/** The Autolab HTTP API, typed: every JSON answer is checked against the contracts' schemas. */
export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string | null;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    this.apiKey = options.apiKey ?? null;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** An absolute URL for an API path or a link from a record (`/v1/runs/…`). */
  url(path: string): string {
    return new URL(path.replace(/^\/+/, ''), this.baseUrl).href;
  }

  async createRun(request: CreateRunRequest, options: { idempotencyKey?: string } = {}): Promise<RunRecord> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    const response = await this.request('v1/runs', { method: 'POST', json: request, headers });
    return this.parse(response, RunRecordSchema);
  }

  async listRuns(query: { limit?: number; cursor?: string } = {}): Promise<RunList> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    const search = params.size > 0 ? `?${params}` : '';
    return this.parse(await this.request(`v1/runs${search}`), RunListSchema);
  }

  async getRun(runId: string): Promise<RunRecord> {
    return this.parse(await this.request(runPath(runId)), RunRecordSchema);
  }

  async cancelRun(runId: string): Promise<RunRecord> {
    return this.parse(await this.request(`${runPath(runId)}/cancel`, { method: 'POST' }), RunRecordSchema);
  }

  async listArtifacts(runId: string): Promise<ArtifactList> {
    return this.parse(await this.request(`${runPath(runId)}/artifacts`), ArtifactListSchema);
  }

  /** Events after `after` as one JSON page (the polling alternative to the SSE stream). */
  async eventPage(runId: string, query: { after?: string; limit?: number } = {}): Promise<EventPage> {
    const params = new URLSearchParams();
    if (query.after) params.set('after', query.after);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const search = params.size > 0 ? `?${params}` : '';
    return this.parse(await this.request(`${runPath(runId)}/events${search}`), EventPageSchema);
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

  /** A `.tar.gz` of the run's artifacts (entries prefixed `<runId>/`). */
  async openArchive(runId: string, subset: ArchiveSubset, signal?: AbortSignal): Promise<Download> {
    const response = await this.request(`${runPath(runId)}/archive?subset=${subset}`, { accept: '*/*', signal });
    return this.download(response);
  }

  private download(response: Response): Download {
    if (!response.body) throw new ProtocolError(`empty answer from ${response.url}`);
    const length = response.headers.get('content-length');
    const size = length !== null && /^\d+$/.test(length) ? Number(length) : null;
    return { body: response.body, size, mediaType: response.headers.get('content-type') };
  }

  private async request(path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(path);
    const headers: Record<string, string> = { Accept: options.accept ?? 'application/json', ...options.headers };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method: options.method ?? 'GET', headers, body, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new UnreachableError(`cannot reach ${this.baseUrl} (${networkReason(error)})`, { cause: error });
    }
    if (!response.ok) throw await toApiError(response);
    return response;
  }

  private async parse<T>(response: Response, schema: Schema<T>): Promise<T> {
    const text = await readText(response);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ProtocolError(`${response.url} answered ${response.status} with something that is not JSON`);
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      throw new ProtocolError(`${response.url} answered in an unexpected shape: ${result.error.message}`);
    }
    return result.data;
  }
}

const runPath = (runId: string): string => `v1/runs/${encodeURIComponent(runId)}`;

async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw new UnreachableError(`the connection to ${response.url} broke (${networkReason(error)})`, { cause: error });
  }
}

async function toApiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = ErrorBody.safeParse(JSON.parse(text));
    if (body.success) {
      const { code, message, details } = body.data.error;
      return new ApiError(response.status, code, message, details);
    }
  } catch {
    // Not JSON: a proxy or a crashed server; describe it by its status.
  }
  const snippet = text.trim().split('\n')[0]?.slice(0, 200);
  return new ApiError(response.status, `http_${response.status}`, snippet || response.statusText || 'request failed');
}

/** The most specific reason fetch gives (it wraps the socket error in `cause`). */
export function networkReason(error: unknown): string {
  let current: unknown = error;
  let reason = 'unknown error';
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    reason = code ? `${code}${current.message.includes(code) ? '' : `: ${current.message}`}` : current.message;
    current = current.cause;
  }
  return reason;
}
