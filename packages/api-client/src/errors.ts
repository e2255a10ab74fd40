import { ErrorBody } from '@autolab/contracts';

/**
 * What a request to the API can end in, other than its answer: one class per way it can go wrong, so the CLI can map
 * each to an exit code and the dashboard each to a message. Browser-safe (no Node-only imports).
 */

/** The API answered with an error status; `code`, `message` and `details` come from its `ErrorBody` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** From `Retry-After` (429, 503): whole seconds to wait before trying again; `null` when not given. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** No answer at all: connection refused, DNS failure, reset, or a stream that could not be resumed. */
export class UnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** The server answered, but not in the shape the contracts promise (or a download arrived incomplete). */
export class ProtocolError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** An error answer as `ApiError`; `body` is the parsed JSON or, when it was not JSON, the text. */
export function toApiError(response: Response, body: unknown): ApiError {
  let json = body;
  if (typeof body === 'string') {
    try {
      json = JSON.parse(body);
    } catch {
      // Not JSON: a proxy or a crashed server; described by its status below.
    }
  }
  const retryAfter = retryAfterSeconds(response.headers.get('retry-after'), json);
  const parsed = ErrorBody.safeParse(json);
  if (parsed.success) {
    const { code, message, details } = parsed.data.error;
    return new ApiError(response.status, code, message, details, retryAfter);
  }
  const text = typeof body === 'string' ? body : '';
  const snippet = text.trim().split('\n')[0]?.slice(0, 200);
  return new ApiError(
    response.status,
    `http_${response.status}`,
    snippet || response.statusText || 'request failed',
    undefined,
    retryAfter,
  );
}

/** `Retry-After` as seconds (it may be a number or an HTTP date), else a `retryAfterSeconds` in the error details. */
export function retryAfterSeconds(header: string | null, body?: unknown, now = Date.now()): number | null {
  const value = header?.trim();
  if (value) {
    if (/^\d+$/.test(value)) return Number(value);
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now) / 1000));
  }
  const details = (body as { error?: { details?: { retryAfterSeconds?: unknown } } } | undefined)?.error?.details;
  const fromDetails = details?.retryAfterSeconds;
  return typeof fromDetails === 'number' && Number.isFinite(fromDetails) ? Math.max(0, Math.ceil(fromDetails)) : null;
}

/** The most specific reason fetch gives (Node's fetch wraps the socket error, with its `code`, in `cause`). */
export function networkReason(error: unknown): string {
  let current: unknown = error;
  let reason = 'unknown error';
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    reason =
      typeof code === 'string'
        ? `${code}${current.message.includes(code) ? '' : `: ${current.message}`}`
        : current.message;
    current = current.cause;
  }
  return reason;
}
