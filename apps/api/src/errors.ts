/**
 * Every error the API answers with, in one place: a stable code, the HTTP status and the message.
 * Clients switch on `code`; people read `message`.
 */
export const API_ERRORS = {
  validation_failed: { status: 400, message: 'The request is not valid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_path: { status: 400, message: 'That is not a valid artifact path.' },
  invalid_cursor: { status: 400, message: 'That is not a valid cursor or event id.' },
  invalid_url: {
    status: 400,
    message: 'The URL cannot be decoded: it has a malformed percent-escape or bytes that are not valid UTF-8.',
  },
  unauthorized: {
    status: 401,
    message: 'Send a valid API key: Authorization: Bearer <key>.',
  },
  forbidden: { status: 403, message: 'This needs an admin API key.' },
  run_not_found: { status: 404, message: 'There is no run with this id.' },
  key_not_found: { status: 404, message: 'There is no API key with this id.' },
  artifact_not_found: { status: 404, message: 'This run has no such file.' },
  upload_not_found: { status: 404, message: 'There is no upload with this id.' },
  lesson_not_found: { status: 404, message: 'There is no lesson with this id.' },
  lesson_read_only: {
    status: 409,
    message: 'This lesson is shared with your tenant read-only; only its own tenant may change it.',
  },
  route_not_found: { status: 404, message: 'There is no such route.' },
  run_already_finished: { status: 409, message: 'The run has already finished.' },
  run_not_finished: { status: 409, message: 'The run has not finished yet; only a finished run can be rerun.' },
  hint_limit_reached: { status: 409, message: 'This run already has as many hints as it may have.' },
  idempotency_conflict: { status: 409, message: 'This Idempotency-Key was used with a different request body.' },
  upload_too_large: { status: 413, message: 'The upload is over a size or count limit.' },
  invalid_upload: { status: 400, message: 'The upload was refused.' },
  upload_in_use: { status: 409, message: 'A queued or running run uses this upload.' },
  request_timeout: {
    status: 408,
    message: 'The request (its headers and body) did not arrive within the time the server waits for one.',
  },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  uri_too_long: { status: 414, message: 'The URL, or a part of its path, is longer than the server accepts.' },
  unsupported_media_type: { status: 415, message: 'Send JSON (Content-Type: application/json).' },
  rate_limited: { status: 429, message: 'Too many requests with this API key; retry after Retry-After seconds.' },
  too_many_active_runs: {
    status: 429,
    message: 'Your tenant has as many queued and running runs as it may; retry when one has finished.',
  },
  headers_too_large: { status: 431, message: 'The request headers are larger than the server accepts.' },
  bad_request: { status: 400, message: 'The request could not be understood.' },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
  unavailable: {
    status: 503,
    message: 'The service cannot reach its database right now; retry after Retry-After seconds.',
  },
  artifact_store_unavailable: {
    status: 503,
    message:
      "The service cannot reach its artifact store (the runs' files) right now; retry after Retry-After seconds.",
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? API_ERRORS[code].message);
    this.name = this.constructor.name;
    this.status = API_ERRORS[code].status;
  }
}
