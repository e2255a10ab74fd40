/** Why one service did not answer; the client turns these into fallback, cooldown and its final message. */
export type ProviderFailure = 'unreachable' | 'timeout' | 'rate_limited' | 'http' | 'bad_response';

/** One service failed one search. Internal to the client: callers only ever see `LiteratureUnavailableError`. */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = this.constructor.name;
  }
}
