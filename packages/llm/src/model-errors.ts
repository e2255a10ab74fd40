import { getRetryable } from '@langchain/core/errors';
import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import { MalformedReplyError } from './reply-check.js';

export interface Classification {
  /** Worth another attempt: the same request may well succeed a moment later. */
  retryable: boolean;
  /** One line for the run's error: what happened, as precisely as the error says. */
  description: string;
  /** How long the server asked us to wait (Retry-After), capped; null when it did not say. */
  retryAfterMs: number | null;
}

const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529]);
/** Socket-level codes (Node and undici) of a connection that failed or dropped. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);
/** For errors that carry neither a class nor a code: the texts Node, undici and the SDK use for the same events. */
const TRANSIENT_TEXT = /timed? ?out|timeout|socket hang up|fetch failed|other side closed|terminated|ECONNRESET/i;
/** Longer waits than this are not honoured as such; the attempt budget still bounds the retries. */
const MAX_RETRY_AFTER_MS = 60_000;

interface ErrorLike {
  status?: unknown;
  code?: unknown;
  name?: unknown;
  message?: unknown;
  headers?: unknown;
  cause?: unknown;
}

/**
 * Which failures of a model call are transient: rate limits, server errors, timeouts, dropped or refused
 * connections, and 200s whose body is not a usable completion. Decided from the error's class and status first
 * (the OpenAI SDK's and LangChain's), its cause chain next, and its text only for errors that carry nothing else.
 */
export function classify(err: unknown): Classification {
  const chain = causeChain(err);
  const top = chain[0] ?? {};
  const describe = (what: string) => `${what}${detailOf(chain)}`;

  const malformed = chain.find((e): e is MalformedReplyError => e instanceof MalformedReplyError);
  if (malformed) {
    return {
      retryable: malformed.status === null || RETRYABLE_STATUS.has(malformed.status),
      description: malformed.message,
      retryAfterMs: null,
    };
  }
  const withStatus = chain.find((e) => typeof e.status === 'number');
  if (withStatus) {
    const status = withStatus.status as number;
    return {
      retryable: RETRYABLE_STATUS.has(status),
      description: `HTTP ${status}: ${messageOf(withStatus)}`,
      retryAfterMs: retryAfterMs(withStatus.headers),
    };
  }
  if (chain.some((e) => e instanceof APIUserAbortError)) {
    return { retryable: false, description: 'the request was aborted', retryAfterMs: null };
  }
  if (chain.some((e) => e instanceof APIConnectionTimeoutError || e.name === 'TimeoutError')) {
    return { retryable: true, description: describe('the request timed out'), retryAfterMs: null };
  }
  const code = chain.map((e) => e.code).find((c): c is string => typeof c === 'string' && NETWORK_CODES.has(c));
  if (code || chain.some((e) => e instanceof APIConnectionError)) {
    return {
      retryable: true,
      description: describe(`the connection failed${code ? ` (${code})` : ''}`),
      retryAfterMs: null,
    };
  }
  // LangChain's own verdict on errors it recognised (it marks its timeout and rate-limit errors).
  const stamped = getRetryable(err);
  if (stamped !== undefined) return { retryable: stamped, description: describe(kindOf(top)), retryAfterMs: null };
  if (top instanceof SyntaxError) {
    return { retryable: true, description: `the reply is not valid JSON: ${messageOf(top)}`, retryAfterMs: null };
  }
  const transient = chain.some((e) => TRANSIENT_TEXT.test(messageOf(e)));
  return { retryable: transient, description: describe(kindOf(top)), retryAfterMs: null };
}

/** The error and its causes, outermost first (bounded: causes can be cyclic). */
function causeChain(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = err;
  while (current !== null && typeof current === 'object' && chain.length < 6 && !chain.includes(current)) {
    chain.push(current as ErrorLike);
    current = (current as ErrorLike).cause;
  }
  if (chain.length === 0) chain.push({ message: String(err) });
  return chain;
}

const messageOf = (e: ErrorLike): string => (typeof e.message === 'string' ? e.message : String(e)).slice(0, 300);

function kindOf(e: ErrorLike): string {
  const name = typeof e.name === 'string' ? e.name : 'Error';
  return `${name}: ${messageOf(e)}`;
}

/** The messages of the whole chain, so "Connection error." also says what the socket said. */
function detailOf(chain: ErrorLike[]): string {
  const messages = [...new Set(chain.map(messageOf).filter((m) => m.length > 0))];
  return messages.length > 0 ? ` (${messages.join(': ')})` : '';
}

function retryAfterMs(headers: unknown): number | null {
  const get = (name: string): string | null =>
    headers instanceof Headers
      ? headers.get(name)
      : headers !== null && typeof headers === 'object'
        ? ((headers as Record<string, string | undefined>)[name] ?? null)
        : null;
  const ms = Number(get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, MAX_RETRY_AFTER_MS);
  const after = get('retry-after');
  if (after === null) return null;
  const seconds = Number(after);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(after);
  return Number.isFinite(date) ? Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS) : null;
}
