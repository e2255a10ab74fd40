import { CommanderError } from 'commander';
import { ApiError, InterruptedError, ProtocolError, UnreachableError, UsageError } from './errors.js';

export const ExitCode = {
  /** Done; for `watch` and `submit --watch`: the run succeeded. */
  Ok: 0,
  /** The run failed or was cancelled (also: a local failure such as an unwritable output directory). */
  RunFailed: 1,
  /** Bad arguments. */
  Usage: 2,
  /** The server could not be reached, answered 5xx, or answered outside the contract. */
  Unavailable: 3,
  /** The server refused the request: not found, not allowed (401/403), a conflict, or another 4xx. */
  Rejected: 4,
  /** The server refused the request for now (429): try again after the time it gave. */
  RateLimited: 5,
  /** Ctrl-C (128 + SIGINT, as shells report it). */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `
Exit codes:
  0    ok (watch, submit --watch, rerun --watch: the run succeeded)
  1    the run failed or was cancelled (or a local failure, e.g. --out not writable)
  2    usage error (bad arguments)
  3    server unreachable, server error (5xx) or malformed answer
  4    request refused: not found, 401/403 (API key missing, wrong or not admin), conflict (409), other 4xx
  5    rate limited (429): try again after the time printed
  130  interrupted (Ctrl-C); the run goes on on the server

Environment:
  AUTOLAB_URL      API base URL (default http://127.0.0.1:8080)
  AUTOLAB_API_KEY  sent as "Authorization: Bearer <key>"; the keys commands need an admin key
  AUTOLAB_DEBUG=1  print stack traces of errors
  NO_COLOR=1       no colours in the live view and progress bars (TERM=dumb: no live view at all)`;

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.Usage;
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  if (error instanceof InterruptedError) return ExitCode.Interrupted;
  if (error instanceof ApiError) {
    if (error.status === 429) return ExitCode.RateLimited;
    return error.status >= 500 ? ExitCode.Unavailable : ExitCode.Rejected;
  }
  if (error instanceof UnreachableError || error instanceof ProtocolError) return ExitCode.Unavailable;
  return ExitCode.RunFailed;
}

export interface DescribeOptions {
  /** Whether `AUTOLAB_API_KEY` was set: a 401 then means a wrong key rather than a missing one. */
  apiKeySet?: boolean;
}

/** What to print for an error (without the `autolab: ` prefix); `null` when commander has already said it. */
export function describeError(error: unknown, options: DescribeOptions = {}): string | null {
  if (error instanceof CommanderError) return null;
  if (error instanceof ApiError) return describeApiError(error, options);
  if (error instanceof Error) return error.message;
  return String(error);
}

function describeApiError(error: ApiError, options: DescribeOptions): string {
  const said = `${error.code}: ${error.message}`;
  switch (error.status) {
    case 401:
      return options.apiKeySet
        ? `${said}\n  the server did not accept the key in AUTOLAB_API_KEY (revoked or mistyped?)`
        : `${said}\n  this server needs an API key: set AUTOLAB_API_KEY (an admin creates one with ` +
            '`autolab keys create --tenant NAME`)';
    case 403:
      return `${said}\n  the key in AUTOLAB_API_KEY is not allowed to do this (the keys commands need an admin key)`;
    case 429: {
      const wait = error.retryAfterSeconds !== null ? `retry after ${error.retryAfterSeconds} s` : 'retry later';
      return `rate limited, ${wait} (${said})`;
    }
    default:
      return said;
  }
}
