import { describe, expect, it } from 'vitest';
import { describeDockerError, isDockerUnreachable } from './docker-errors.js';

const httpError = (statusCode: number, reason: string, json: unknown) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) ${reason} - `), { statusCode, reason, json });

describe('describeDockerError', () => {
  it('names the status and the body, whatever shape the body has', () => {
    expect(
      describeDockerError(httpError(409, 'container stopped/paused', { message: 'Container abc is not running' })),
    ).toBe('Docker answered HTTP 409 (container stopped/paused): Container abc is not running');
    expect(describeDockerError(httpError(500, 'server error', null))).toBe('Docker answered HTTP 500 (server error)');
    expect(describeDockerError(httpError(500, 'server error', Buffer.from('plain text body')))).toBe(
      'Docker answered HTTP 500 (server error): plain text body',
    );
  });

  it('is never empty', () => {
    expect(describeDockerError(new Error(''))).toBe('Error');
    expect(describeDockerError(Object.assign(new Error(''), { code: 'EPIPE' }))).toBe('EPIPE');
    expect(describeDockerError(undefined)).toBe('undefined');
  });
});

describe('isDockerUnreachable', () => {
  it('is true for socket errors, also as a cause, and false for answers from Docker', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
    expect(isDockerUnreachable(refused)).toBe(true);
    expect(isDockerUnreachable(Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' }))).toBe(true);
    expect(isDockerUnreachable(new Error('wrapped', { cause: refused }))).toBe(true);
    expect(isDockerUnreachable(httpError(404, 'no such container', { message: 'No such container' }))).toBe(false);
    expect(isDockerUnreachable(new Error('tar: Unexpected end of data'))).toBe(false);
  });
});
