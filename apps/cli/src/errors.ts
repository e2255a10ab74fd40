/**
 * Every error the CLI reports on purpose. Each maps to one exit code (see `exit-codes.ts`); anything else is a bug
 * or a local failure. Those of a request (`ApiError`, `UnreachableError`, `ProtocolError`) are the API client's own.
 */
export { ApiError, ProtocolError, UnreachableError } from '@autolab/api-client';

/** The command line itself is wrong: a bad option value, a missing goal, conflicting inputs. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** The user pressed Ctrl-C: the command stopped (the run itself goes on on the server). */
export class InterruptedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = this.constructor.name;
  }
}
