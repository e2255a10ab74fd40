import { type ApiClient, createApiClient } from '@autolab/api-client';
import { authHeaders } from './auth.js';

export type { ApiClient };

/** The API is on the dashboard's own origin. */
export function makeClient(apiKey: string): ApiClient {
  return createApiClient({ baseUrl: '', ...(apiKey ? { apiKey } : {}) });
}

export interface ApiProblem {
  status: number;
  code: string;
  message: string;
  /** `details.issues` of a validation error: which field, what is wrong (and, on a form, the field's label). */
  issues: { path: string; message: string; label?: string }[];
}

/** Turns an API error body (or anything thrown) into something to show. */
export function toProblem(error: unknown, status = 0): ApiProblem {
  const body = (error ?? {}) as { error?: { code?: string; message?: string; details?: { issues?: unknown } } };
  if (body.error && typeof body.error.message === 'string') {
    const raw = Array.isArray(body.error.details?.issues) ? body.error.details.issues : [];
    const issues = raw
      .map((i: { path?: unknown; message?: unknown }) => ({
        path: String(i.path ?? ''),
        message: String(i.message ?? ''),
      }))
      .filter((i) => i.message);
    return { status, code: body.error.code ?? 'error', message: body.error.message, issues };
  }
  if (error instanceof Error) return { status, code: 'network', message: error.message, issues: [] };
  return { status, code: 'error', message: `The request failed${status ? ` (HTTP ${status})` : ''}.`, issues: [] };
}

export function artifactUrl(runId: string, path: string): string {
  return `/v1/runs/${encodeURIComponent(runId)}/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** Raw fetch with the key, for files (PDFs, images, code, archives): the JSON client is for JSON. */
export async function fetchWithKey(url: string, apiKey: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, { ...init, headers: { ...authHeaders(apiKey), ...(init.headers ?? {}) } });
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw Object.assign(new Error(toProblem(body, res.status).message), { status: res.status });
  }
  return res;
}

/**
 * Uploads files as one upload (multipart, each part named with its relative path) and returns its id; an error
 * answer becomes an `ApiProblem` (thrown) naming `field`, so the form shows it next to the drop zone.
 */
export async function uploadFiles(
  files: { path: string; file: File }[],
  apiKey: string,
  field: string,
): Promise<string> {
  const form = new FormData();
  for (const { path, file } of files) form.append('file', file, path);
  const res = await fetch('/v1/uploads', { method: 'POST', headers: authHeaders(apiKey), body: form });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const problem = toProblem(body, res.status);
    throw Object.assign(problem, { issues: [{ path: field, message: problem.message }, ...problem.issues] });
  }
  return (body as { id: string }).id;
}

/** Downloads a protected file: fetched with the key, then saved through a temporary blob link. */
export async function downloadWithKey(url: string, apiKey: string, fallbackName: string): Promise<void> {
  const res = await fetchWithKey(url, apiKey);
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const blob = await res.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
