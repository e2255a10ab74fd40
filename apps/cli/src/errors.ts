/**
 * Every error the CLI reports on purpose. Each maps to one exit code (see `exit-codes.ts`); anything else is a bug
 * or a local failure.
 */

/** The command line itself is wrong: a bad option value, a missing goal, conflicting inputs. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** The API answered with an error status; `code` and `message` come from its `ErrorBody` when it sent one. */
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

/** The user pressed Ctrl-C: the command stopped (the run itself goes on on the server). */
export class InterruptedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = this.constructor.name;
  }
}
