import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LiteratureResult, type LiteratureSearch, LiteratureUnavailableError } from '@autolab/engine';
import type { LiteratureProvider } from './literature-provider.js';
import { dedupePapers } from './paper-identity.js';
import { ProviderError } from './provider-error.js';

/** Structurally a pino logger, so one can be passed as is. */
export interface LiteratureLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface LiteratureClientOptions {
  /** Budget for one HTTP request, body included. @defaultValue 10_000 */
  timeoutMs?: number;
  /**
   * Budget for resolving a service's host and opening a TCP connection to it. Kept short so an offline machine (DNS
   * that never answers, packets dropped) learns it within a second or two rather than after `timeoutMs`.
   * @defaultValue 1_500
   */
  connectTimeoutMs?: number;
  /** Retries of one request after 429 or 503. @defaultValue 2 */
  maxRetries?: number;
  /** The longest wait before a retry, whatever `Retry-After` asks for. @defaultValue 5_000 */
  maxRetryWaitMs?: number;
  /** First wait before a retry when the service gives no `Retry-After`; doubles each time. @defaultValue 500 */
  backoffMs?: number;
  /** How long a failing service is skipped. @defaultValue 60_000 */
  cooldownMs?: number;
  /**
   * Failed searches in a row after which a service is skipped for `cooldownMs`. A service that cannot be reached at
   * all is skipped after the first. @defaultValue 2
   */
  failuresBeforeCooldown?: number;
  logger?: LiteratureLogger;
}

interface ProviderHealth {
  failuresInARow: number;
  /** Epoch ms; the service is skipped until then. */
  coolingUntil: number;
  lastError: string | null;
  /** A connection got through since the last failure, so the next search needs no reachability check. */
  reachable: boolean;
}

/** Largest page any service allows; the engine asks for far fewer. */
const MAX_LIMIT = 100;

/**
 * Searches an ordered list of literature services: the first that answers wins, a rate-limited one is retried
 * politely, a failing one is skipped for a while, and when none answers the search fails fast with
 * `LiteratureUnavailableError` so the research goes on without citations.
 */
export class LiteratureClient implements LiteratureSearch {
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryWaitMs: number;
  private readonly backoffMs: number;
  private readonly cooldownMs: number;
  private readonly failuresBeforeCooldown: number;
  private readonly logger: LiteratureLogger | undefined;
  private readonly health = new Map<LiteratureProvider, ProviderHealth>();

  constructor(
    private readonly providers: readonly LiteratureProvider[],
    options: LiteratureClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1_500;
    this.maxRetries = options.maxRetries ?? 2;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? 5_000;
    this.backoffMs = options.backoffMs ?? 500;
    this.cooldownMs = options.cooldownMs ?? 60_000;
    this.failuresBeforeCooldown = Math.max(1, options.failuresBeforeCooldown ?? 2);
    this.logger = options.logger;
    for (const provider of providers) {
      this.health.set(provider, { failuresInARow: 0, coolingUntil: 0, lastError: null, reachable: false });
    }
  }

  async search(query: string, limit: number, signal: AbortSignal): Promise<LiteratureResult> {
    signal.throwIfAborted();
    if (this.providers.length === 0) throw new LiteratureUnavailableError('no literature service is configured');
    const text = query.trim();
    const size = Math.min(Math.max(1, Math.floor(limit) || 1), MAX_LIMIT);
    const now = Date.now();
    const problems: string[] = [];
    const ready: LiteratureProvider[] = [];
    for (const provider of this.providers) {
      const health = this.healthOf(provider);
      if (health.coolingUntil > now) {
        const seconds = Math.ceil((health.coolingUntil - now) / 1000);
        problems.push(`${provider.name}: ${health.lastError ?? 'failing'} (skipped for another ${seconds} s)`);
      } else {
        ready.push(provider);
      }
    }
    // Checked all at once, so several unreachable services cost one connect timeout, not one each.
    const checks = new Map(ready.map((p) => [p, this.healthOf(p).reachable ? null : this.checkReachable(p, signal)]));
    for (const provider of ready) {
      try {
        const unreachable = await checks.get(provider);
        signal.throwIfAborted();
        if (unreachable) throw unreachable;
        const papers = await this.fetchPapers(provider, text, size, signal);
        this.succeeded(provider);
        return { source: provider.name, papers: dedupePapers(papers).slice(0, size) };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const failure =
          err instanceof ProviderError ? err : new ProviderError('bad_response', `unexpected error: ${String(err)}`);
        this.failed(provider, failure);
        problems.push(`${provider.name}: ${failure.message}`);
      }
    }
    throw new LiteratureUnavailableError(`no literature service answered (${problems.join('; ')})`);
  }

  private async fetchPapers(provider: LiteratureProvider, query: string, limit: number, signal: AbortSignal) {
    const { url, headers } = provider.request(query, limit);
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const both = AbortSignal.any([signal, timeout]);
      let response: Response;
      let body: unknown;
      try {
        response = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal: both });
        if (response.ok) body = await response.json();
        else await response.body?.cancel();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (timeout.aborted) {
          throw new ProviderError('timeout', `no answer within ${this.timeoutMs / 1000} s`, { cause: err });
        }
        if (err instanceof SyntaxError) throw new ProviderError('bad_response', 'answered with invalid JSON');
        const code = errorCode(err);
        throw new ProviderError('unreachable', `cannot reach ${new URL(url).host}${code ? ` (${code})` : ''}`, {
          cause: err,
        });
      }
      if (response.ok) {
        try {
          return provider.parse(body);
        } catch (err) {
          throw new ProviderError('bad_response', err instanceof Error ? err.message : String(err), { cause: err });
        }
      }
      const retryable = response.status === 429 || response.status === 503;
      const tries = attempt + 1;
      if (!retryable || attempt >= this.maxRetries) {
        const what = response.status === 429 ? 'rate limited (HTTP 429)' : `HTTP ${response.status}`;
        throw new ProviderError(
          response.status === 429 ? 'rate_limited' : 'http',
          tries > 1 ? `${what} after ${tries} attempts` : what,
        );
      }
      const waitMs = this.retryWait(response.headers.get('retry-after'), attempt);
      this.logger?.warn(
        { provider: provider.name, status: response.status, attempt: tries, waitMs },
        'literature service asked us to slow down; retrying',
      );
      await sleep(waitMs, undefined, { signal });
    }
  }

  /** `Retry-After` is seconds or an HTTP date; either way it is capped, and without it the wait doubles per try. */
  private retryWait(retryAfter: string | null, attempt: number): number {
    let ms = this.backoffMs * 2 ** attempt;
    if (retryAfter !== null) {
      const seconds = Number(retryAfter.trim());
      const asked = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
      if (Number.isFinite(asked)) ms = Math.max(0, asked);
    }
    return Math.min(ms, this.maxRetryWaitMs);
  }

  /** Resolves the host and opens (then drops) a TCP connection, bounded by `connectTimeoutMs`; never rejects. */
  private checkReachable(provider: LiteratureProvider, signal: AbortSignal): Promise<ProviderError | null> {
    const url = new URL(provider.request('', 1).url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      const finish = (result: ProviderError | null) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(result);
      };
      const onAbort = () => finish(null);
      const timer = setTimeout(
        () => finish(new ProviderError('unreachable', `cannot reach ${url.host} within ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => finish(null));
      socket.once('error', (err) => {
        const code = errorCode(err);
        finish(new ProviderError('unreachable', `cannot reach ${url.host}${code ? ` (${code})` : ''}`, { cause: err }));
      });
    });
  }

  private succeeded(provider: LiteratureProvider): void {
    this.health.set(provider, { failuresInARow: 0, coolingUntil: 0, lastError: null, reachable: true });
  }

  private failed(provider: LiteratureProvider, failure: ProviderError): void {
    const health = this.healthOf(provider);
    health.failuresInARow++;
    health.lastError = failure.message;
    // An HTTP answer proves the host is there; a timeout or a refused connection does not.
    health.reachable = failure.kind !== 'unreachable' && failure.kind !== 'timeout';
    const threshold = failure.kind === 'unreachable' ? 1 : this.failuresBeforeCooldown;
    if (health.failuresInARow >= threshold) {
      health.coolingUntil = Date.now() + this.cooldownMs;
      health.failuresInARow = 0;
    }
    this.logger?.warn(
      {
        provider: provider.name,
        kind: failure.kind,
        error: failure.message,
        skippedForMs: health.coolingUntil > Date.now() ? this.cooldownMs : 0,
      },
      'literature service failed',
    );
  }

  private healthOf(provider: LiteratureProvider): ProviderHealth {
    const health = this.health.get(provider);
    if (!health) throw new Error(`unknown literature provider ${provider.name}`);
    return health;
  }
}

/** `fetch` wraps network failures in a TypeError whose cause holds the system error code. */
function errorCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return null;
}
