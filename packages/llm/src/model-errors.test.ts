import { ContextOverflowError, stampRetryable } from '@langchain/core/errors';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import { describe, expect, it } from 'vitest';
import { classify } from './model-errors.js';
import { MalformedReplyError } from './reply-check.js';

const headers = (h: Record<string, string> = {}) => new Headers(h);
/** What @langchain/openai turns the SDK's APIConnectionTimeoutError into (utils/client.ts). */
function langchainTimeout(): Error {
  const error = new Error('Request timed out.');
  error.name = 'TimeoutError';
  return stampRetryable(error, true);
}
/** What undici's fetch throws when the connection drops in the middle of a body. */
function bodyCutOff(): Error {
  const socket = Object.assign(new Error('other side closed'), { name: 'SocketError', code: 'UND_ERR_SOCKET' });
  return new TypeError('terminated', { cause: socket });
}

describe('classify: transient model failures are retried, the others are not', () => {
  it.each([
    ['a timeout as LangChain reports it', langchainTimeout()],
    ['the SDK timeout', new APIConnectionTimeoutError()],
    ['a bare "Request timed out." error', new Error('Request timed out.')],
    [
      'a refused connection',
      new APIConnectionError({
        cause: new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
      }),
    ],
    [
      'a reset connection',
      new APIConnectionError({
        cause: new TypeError('fetch failed', {
          cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
        }),
      }),
    ],
    ['a body cut off mid-way', bodyCutOff()],
    ['a 200 whose body is not JSON (SDK parse)', new SyntaxError('Unexpected token < in JSON at position 0')],
    ['a malformed reply found by the reply check', new MalformedReplyError('the body is not JSON: <html>')],
    [
      'a malformed reply wrapped by the SDK',
      new APIConnectionError({ cause: new MalformedReplyError('the body is empty') }),
    ],
    ['HTTP 500', new InternalServerError(500, { message: 'boom' }, undefined, headers())],
    ['HTTP 502', new InternalServerError(502, undefined, 'bad gateway', headers())],
    ['HTTP 503', new InternalServerError(503, { message: 'overloaded' }, undefined, headers())],
    ['HTTP 408', new APIError(408, { message: 'request timeout' }, undefined, headers())],
    ['HTTP 429', new RateLimitError(429, { message: 'slow down' }, undefined, headers())],
  ])('%s is retryable', (_name, err) => {
    const verdict = classify(err);
    expect(verdict.retryable, verdict.description).toBe(true);
    expect(verdict.description.length).toBeGreaterThan(0);
  });

  it.each([
    ['HTTP 400', new BadRequestError(400, { message: 'bad request' }, undefined, headers())],
    ['HTTP 401', new AuthenticationError(401, { message: 'bad key' }, undefined, headers())],
    ['HTTP 404', new NotFoundError(404, { message: 'no such model' }, undefined, headers())],
    ['a request aborted by the caller', new APIUserAbortError()],
    ['a context overflow', new ContextOverflowError('maximum context length exceeded')],
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'message')")],
    ['a 200 that carries a permanent error', new MalformedReplyError('invalid model', { status: 404 })],
  ])('%s is not retryable', (_name, err) => {
    expect(classify(err).retryable).toBe(false);
  });

  it('says what happened, including what the SDK wrapped', () => {
    expect(classify(new APIConnectionTimeoutError()).description).toMatch(/timed out/i);
    expect(classify(bodyCutOff()).description).toMatch(/other side closed|terminated/);
    expect(
      classify(new APIConnectionError({ cause: new MalformedReplyError('the body is empty') })).description,
    ).toContain('the body is empty');
    expect(classify(new InternalServerError(503, { message: 'overloaded' }, undefined, headers())).description).toMatch(
      /^HTTP 503/,
    );
  });

  it('honours Retry-After (seconds, milliseconds or a date) and caps it', () => {
    const limited = (h: Record<string, string>) =>
      classify(new RateLimitError(429, { message: 'slow down' }, undefined, headers(h))).retryAfterMs;
    expect(limited({ 'retry-after': '3' })).toBe(3000);
    expect(limited({ 'retry-after-ms': '250' })).toBe(250);
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    expect(limited({ 'retry-after': inTwoSeconds })).toBeGreaterThan(0);
    expect(limited({ 'retry-after': '86400' })).toBe(60_000);
    expect(limited({})).toBeNull();
  });

  it('takes a 200 with an error object at the status it names', () => {
    expect(classify(new MalformedReplyError('overloaded', { status: 503 })).retryable).toBe(true);
    expect(classify(new MalformedReplyError('overloaded', { status: 429 })).retryable).toBe(true);
    expect(classify(new MalformedReplyError('no such model', { status: 400 })).retryable).toBe(false);
  });
});
