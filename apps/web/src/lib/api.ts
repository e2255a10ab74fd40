import { ApiClient, ApiError, type Download, ProtocolError, UnreachableError } from '@autolab/api-client';

export { ApiClient };

/** The API is on the dashboard's own origin. */
export function makeClient(apiKey: string): ApiClient {
  return new ApiClient({ baseUrl: window.location.origin, apiKey: apiKey || null });
}

export interface ApiProblem {
  status: number;
  code: string;
  message: string;
  /** `details.issues` of a validation error: which field, what is wrong (and, on a form, the field's label). */
  issues: { path: string; message: string; label?: string }[];
}

export const isProblem = (err: unknown): err is ApiProblem =>
  typeof err === 'object' && err !== null && 'code' in err && 'issues' in err && 'message' in err && 'status' in err;

/** Turns what a call of the API client threw (an `ApiError` from the API's error body, above all) into something to show. */
export function toProblem(error: unknown): ApiProblem {
  if (isProblem(error)) return error;
  if (error instanceof ApiError) {
    const details = error.details as { issues?: unknown } | undefined;
    const raw: unknown[] = Array.isArray(details?.issues) ? details.issues : [];
    const issues = raw
      .map((issue) => {
        const { path, message } = (issue ?? {}) as { path?: unknown; message?: unknown };
        return { path: String(path ?? ''), message: String(message ?? '') };
      })
      .filter((issue) => issue.message);
    return { status: error.status, code: error.code, message: error.message, issues };
  }
  if (error instanceof UnreachableError) return { status: 0, code: 'network', message: error.message, issues: [] };
  if (error instanceof ProtocolError) return { status: 0, code: 'protocol', message: error.message, issues: [] };
  if (error instanceof Error) return { status: 0, code: 'error', message: error.message, issues: [] };
  return { status: 0, code: 'error', message: 'The request failed.', issues: [] };
}

/**
 * Uploads files as one upload (multipart, each part named with its relative path) and returns its id; an error
 * answer becomes an `ApiProblem` (thrown) naming `field`, so the form shows it next to the drop zone.
 */
export async function uploadFiles(client: ApiClient, files: { path: string; file: File }[], field: string) {
  const form = new FormData();
  for (const { path, file } of files) form.append('file', file, path);
  try {
    return (await client.createUpload({ body: form })).id;
  } catch (err) {
    const problem = toProblem(err);
    throw { ...problem, issues: [{ path: field, message: problem.message }, ...problem.issues] } satisfies ApiProblem;
  }
}

/** Saves a download (a paper, an archive) through a temporary blob link, under the name the server gave it. */
export async function saveDownload(download: Download, fallbackName: string): Promise<void> {
  const blob = await new Response(download.body).blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = download.fileName ?? fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
