import { CommanderError } from 'commander';
import { ApiError, ProtocolError, UnreachableError, UsageError } from './errors.js';

export const ExitCode = {
  /** Done; for `watch` and `submit --watch`: the run succeeded. */
  Ok: 0,
  /** The run failed or was cancelled (also: a local failure such as an unwritable output directory). */
  RunFailed: 1,
  /** Bad arguments. */
  Usage: 2,
  /** The server could not be reached, answered 5xx, or answered outside the contract. */
  Unavailable: 3,
  /** The server refused the request: not found or another 4xx. */
  Rejected: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok (watch, submit --watch: the run succeeded)
  1  the run failed or was cancelled (or a local failure, e.g. --out not writable)
  2  usage error (bad arguments)
  3  server unreachable, server error (5xx) or malformed answer
  4  not found or request refused (other 4xx); the API's "code: message" is printed

Environment:
  AUTOLAB_URL      API base URL (default http://127.0.0.1:8080)
  AUTOLAB_API_KEY  sent as "Authorization: Bearer <key>" when set
  AUTOLAB_DEBUG=1  print stack traces of errors`;

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.Usage;
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  if (error instanceof ApiError) return error.status >= 500 ? ExitCode.Unavailable : ExitCode.Rejected;
  if (error instanceof UnreachableError || error instanceof ProtocolError) return ExitCode.Unavailable;
  return ExitCode.RunFailed;
}

/** The one line printed for an error; `null` when commander has already said it (usage errors, help). */
export function describeError(error: unknown): string | null {
  if (error instanceof CommanderError) return null;
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
